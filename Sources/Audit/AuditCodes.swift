/// The coded values of DICOM audit messages (PS3.15 A.5, the DICOM schema for IHE ATNA), by the
/// names the standard gives them. A code is written as `csd-code`, `codeSystemName`, `originalText`.
public struct AuditCode: Sendable, Equatable {
    public let code: String
    public let system: String
    public let text: String

    init(_ code: String, _ system: String, _ text: String) { self.code = code; self.system = system; self.text = text }
}

/// EventID (PS3.15 A.5.3, CID 400).
public enum AuditEventID: Sendable {
    case applicationActivity, dicomInstancesTransferred, dicomStudyDeleted, securityAlert, userAuthentication

    public var code: AuditCode {
        switch self {
        case .applicationActivity: return AuditCode("110100", "DCM", "Application Activity")
        case .dicomInstancesTransferred: return AuditCode("110104", "DCM", "DICOM Instances Transferred")
        case .dicomStudyDeleted: return AuditCode("110105", "DCM", "DICOM Study Deleted")
        case .securityAlert: return AuditCode("110113", "DCM", "Security Alert")
        case .userAuthentication: return AuditCode("110114", "DCM", "User Authentication")
        }
    }
}

/// EventTypeCode (CID 401, 402, 403): what kind of application activity, alert or authentication.
public enum AuditEventType: Sendable {
    case applicationStart, applicationStop, login, logout, nodeAuthentication, softwareConfiguration,
         useOfRestrictedFunction, userSecurityAttributesChanged

    public var code: AuditCode {
        switch self {
        case .applicationStart: return AuditCode("110120", "DCM", "Application Start")
        case .applicationStop: return AuditCode("110121", "DCM", "Application Stop")
        case .login: return AuditCode("110122", "DCM", "Login")
        case .logout: return AuditCode("110123", "DCM", "Logout")
        case .nodeAuthentication: return AuditCode("110126", "DCM", "Node Authentication")
        case .softwareConfiguration: return AuditCode("110131", "DCM", "Software Configuration")
        case .useOfRestrictedFunction: return AuditCode("110132", "DCM", "Use of Restricted Function")
        case .userSecurityAttributesChanged: return AuditCode("110137", "DCM", "User Security Attributes Changed")
        }
    }
}

/// EventActionCode: create, read, update, delete, execute.
public enum AuditAction: String, Sendable {
    case create = "C", read = "R", update = "U", delete = "D", execute = "E"
}

/// EventOutcomeIndicator.
public enum AuditOutcome: Int, Sendable {
    case success = 0, minorFailure = 4, seriousFailure = 8, majorFailure = 12
}

/// RoleIDCode of an active participant (CID 402).
public enum AuditRole: Sendable {
    case application, applicationLauncher, destination, source

    public var code: AuditCode {
        switch self {
        case .application: return AuditCode("110150", "DCM", "Application")
        case .applicationLauncher: return AuditCode("110151", "DCM", "Application Launcher")
        case .destination: return AuditCode("110152", "DCM", "Destination Role ID")
        case .source: return AuditCode("110153", "DCM", "Source Role ID")
        }
    }
}

/// NetworkAccessPointTypeCode: 1 machine name, 2 IP address.
public enum NetworkAccessPointType: Int, Sendable {
    case machineName = 1, ipAddress = 2
}

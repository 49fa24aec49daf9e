import Foundation

/// A person or process that took part (ActiveParticipant): the node, a peer AE, a web user.
public struct ActiveParticipant: Sendable {
    public var userID: String
    public var alternativeUserID: String?
    public var userName: String?
    public var isRequestor: Bool
    public var roles: [AuditRole]
    public var networkAccessPoint: String?

    public init(userID: String, alternativeUserID: String? = nil, userName: String? = nil, isRequestor: Bool,
                roles: [AuditRole], networkAccessPoint: String? = nil) {
        self.userID = userID; self.alternativeUserID = alternativeUserID; self.userName = userName
        self.isRequestor = isRequestor; self.roles = roles; self.networkAccessPoint = networkAccessPoint
    }

    /// An IP address or a machine name, as the schema distinguishes them.
    var networkAccessPointType: NetworkAccessPointType {
        let ip = networkAccessPoint.map { $0.contains(":") || $0.allSatisfy { $0.isNumber || $0 == "." } } ?? false
        return ip ? .ipAddress : .machineName
    }
}

/// What was acted on (ParticipantObjectIdentification): a study with its SOP classes, or a patient.
public struct ParticipantObject: Sendable {
    public enum Kind: Sendable {
        /// A study: its UID, the SOP classes and instance counts involved, its accession numbers.
        case study(uid: String, sopClasses: [String: Int], accessionNumbers: [String])
        /// A patient: ID and name (the audit trail is the place for them; the operational log is not).
        case patient(id: String, name: String?)
        /// A configuration, a delivery or a token: what the node calls it.
        case securityResource(id: String, description: String)
    }

    public var kind: Kind
    public init(_ kind: Kind) { self.kind = kind }
}

/// One DICOM audit message (PS3.15 A.5.1): what happened, who took part, to what.
public struct AuditMessage: Sendable {
    public var event: AuditEventID
    public var action: AuditAction
    public var outcome: AuditOutcome
    /// Why it failed, in words (EventOutcomeDescription); nil on success.
    public var outcomeDescription: String?
    public var types: [AuditEventType]
    public var participants: [ActiveParticipant]
    public var objects: [ParticipantObject]
    public var time: Date

    public init(event: AuditEventID, action: AuditAction = .execute, outcome: AuditOutcome = .success,
                outcomeDescription: String? = nil, types: [AuditEventType] = [], participants: [ActiveParticipant],
                objects: [ParticipantObject] = [], time: Date = Date()) {
        self.event = event; self.action = action; self.outcome = outcome; self.outcomeDescription = outcomeDescription
        self.types = types; self.participants = participants; self.objects = objects; self.time = time
    }

    /// The message as one line of XML (no newline inside), for one syslog record.
    public func xml(source: AuditSource) -> String {
        var x = XMLWriter()
        x.open("AuditMessage")
        x.open("EventIdentification", ["EventActionCode": action.rawValue, "EventDateTime": Self.timestamp(time),
                                        "EventOutcomeIndicator": String(outcome.rawValue)])
        x.code("EventID", event.code)
        for t in types { x.code("EventTypeCode", t.code) }
        if let d = outcomeDescription { x.text("EventOutcomeDescription", d) }
        x.close("EventIdentification")
        for p in participants {
            var a = ["UserID": p.userID, "UserIsRequestor": p.isRequestor ? "true" : "false"]
            a["AlternativeUserID"] = p.alternativeUserID
            a["UserName"] = p.userName
            if let n = p.networkAccessPoint {
                a["NetworkAccessPointID"] = n
                a["NetworkAccessPointTypeCode"] = String(p.networkAccessPointType.rawValue)
            }
            x.open("ActiveParticipant", a)
            for r in p.roles { x.code("RoleIDCode", r.code) }
            x.close("ActiveParticipant")
        }
        x.open("AuditSourceIdentification", ["AuditSourceID": source.id, "AuditEnterpriseSiteID": source.site])
        // 4: application server process tier (RFC 3881 audit source type).
        x.code("AuditSourceTypeCode", AuditCode("4", "DCM", "Application Server"))
        x.close("AuditSourceIdentification")
        for o in objects { Self.write(o, to: &x) }
        x.close("AuditMessage")
        return x.text
    }

    private static func write(_ o: ParticipantObject, to x: inout XMLWriter) {
        switch o.kind {
        case .study(let uid, let sopClasses, let accessions):
            // Type 2 (system object), role 3 (report), ID type: Study Instance UID.
            x.open("ParticipantObjectIdentification", ["ParticipantObjectID": uid, "ParticipantObjectTypeCode": "2",
                                                      "ParticipantObjectTypeCodeRole": "3"])
            x.code("ParticipantObjectIDTypeCode", AuditCode("110180", "DCM", "Study Instance UID"))
            x.open("ParticipantObjectDescription")
            for a in accessions { x.empty("Accession", ["Number": a]) }
            for (uid, count) in sopClasses.sorted(by: { $0.key < $1.key }) {
                x.empty("SOPClass", ["UID": uid, "NumberOfInstances": String(count)])
            }
            x.close("ParticipantObjectDescription")
            x.close("ParticipantObjectIdentification")
        case .patient(let id, let name):
            // Type 1 (person), role 1 (patient), ID type 2 (patient number).
            x.open("ParticipantObjectIdentification", ["ParticipantObjectID": id, "ParticipantObjectTypeCode": "1",
                                                      "ParticipantObjectTypeCodeRole": "1"])
            x.code("ParticipantObjectIDTypeCode", AuditCode("2", "RFC-3881", "Patient Number"))
            if let name { x.text("ParticipantObjectName", name) }
            x.close("ParticipantObjectIdentification")
        case .securityResource(let id, let description):
            // Type 2 (system object), role 13 (security resource).
            x.open("ParticipantObjectIdentification", ["ParticipantObjectID": id, "ParticipantObjectTypeCode": "2",
                                                      "ParticipantObjectTypeCodeRole": "13"])
            x.code("ParticipantObjectIDTypeCode", AuditCode("12", "RFC-3881", "URI"))
            x.text("ParticipantObjectDescription", description)
            x.close("ParticipantObjectIdentification")
        }
    }

    /// xsd:dateTime in UTC with milliseconds.
    static func timestamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }
}

/// Who writes the audit trail (AuditSourceIdentification): the node's AE title and host.
public struct AuditSource: Sendable {
    public var id: String
    public var site: String
    public init(id: String, site: String) { self.id = id; self.site = site }
}

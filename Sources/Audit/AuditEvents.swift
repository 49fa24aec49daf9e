import Foundation

/// The instances of one study in one transfer, for a DICOM Instances Transferred or a DICOM Study
/// Deleted message.
public struct StudyInstances: Sendable, Equatable {
    public var studyInstanceUID: String
    public var patientID: String?
    public var accessionNumbers: Set<String> = []
    /// Instances by SOP class UID.
    public var sopClasses: [String: Int] = [:]

    public init(studyInstanceUID: String, patientID: String?) {
        self.studyInstanceUID = studyInstanceUID; self.patientID = patientID
    }

    var objects: [ParticipantObject] {
        [ParticipantObject(.study(uid: studyInstanceUID, sopClasses: sopClasses, accessionNumbers: accessionNumbers.sorted()))]
            + (patientID.map { [ParticipantObject(.patient(id: $0, name: nil))] } ?? [])
    }
}

/// Studies gathered instance by instance (an association's C-STOREs, a delivery's objects), in the
/// order first seen.
public struct StudyTally: Sendable {
    public private(set) var studies: [StudyInstances] = []

    public init() {}

    public mutating func add(study: String, patientID: String?, accessionNumber: String?, sopClass: String) {
        let i: Int
        if let found = studies.firstIndex(where: { $0.studyInstanceUID == study }) { i = found } else {
            studies.append(StudyInstances(studyInstanceUID: study, patientID: patientID))
            i = studies.count - 1
        }
        studies[i].sopClasses[sopClass, default: 0] += 1
        if let a = accessionNumber, !a.isEmpty { studies[i].accessionNumbers.insert(a) }
    }
}

/// The messages the node writes, by the names PS3.15 A.5.3 gives the events.
extension AuditMessage {
    /// Application Activity: the node started or stopped; `user` is who launched it (the OS user).
    public static func applicationActivity(_ type: AuditEventType, node: ActiveParticipant, user: String) -> AuditMessage {
        AuditMessage(event: .applicationActivity, types: [type],
                     participants: [node, ActiveParticipant(userID: user, isRequestor: true, roles: [.applicationLauncher])])
    }

    /// DICOM Instances Transferred, one message per study: received by the node (action create) or
    /// sent by it (action read). `source` and `destination` are the two AEs.
    public static func instancesTransferred(_ study: StudyInstances, source: ActiveParticipant, destination: ActiveParticipant,
                                            action: AuditAction, outcome: AuditOutcome = .success,
                                            outcomeDescription: String? = nil) -> AuditMessage {
        AuditMessage(event: .dicomInstancesTransferred, action: action, outcome: outcome, outcomeDescription: outcomeDescription,
                     participants: [source, destination], objects: study.objects)
    }

    /// DICOM Study Deleted: the node removed received images of a study (retention).
    public static func studyDeleted(_ study: StudyInstances, node: ActiveParticipant, reason: String) -> AuditMessage {
        AuditMessage(event: .dicomStudyDeleted, action: .delete, outcomeDescription: reason,
                     participants: [node], objects: study.objects)
    }

    /// Security Alert: a refused association or TLS peer (node authentication), a configuration
    /// read at start (software configuration), an administrative action (use of a restricted
    /// function), a token made (user security attributes changed). `by` is who caused it.
    public static func securityAlert(_ type: AuditEventType, node: ActiveParticipant, by: ActiveParticipant?,
                                     outcome: AuditOutcome, description: String, resource: String) -> AuditMessage {
        AuditMessage(event: .securityAlert, action: .execute, outcome: outcome, outcomeDescription: description, types: [type],
                     participants: [node] + (by.map { [$0] } ?? []),
                     objects: [ParticipantObject(.securityResource(id: resource, description: description))])
    }

    /// User Authentication: a sign-in to the dashboard (or its failure) or a sign-out.
    public static func userAuthentication(_ type: AuditEventType, user: ActiveParticipant, node: ActiveParticipant,
                                          outcome: AuditOutcome, description: String? = nil) -> AuditMessage {
        AuditMessage(event: .userAuthentication, outcome: outcome, outcomeDescription: description, types: [type],
                     participants: [user, node])
    }
}

extension ActiveParticipant {
    /// A DICOM application entity: its AE title at its host.
    public static func applicationEntity(_ aeTitle: String, host: String?, role: AuditRole, requestor: Bool) -> ActiveParticipant {
        ActiveParticipant(userID: aeTitle, isRequestor: requestor, roles: [role], networkAccessPoint: host)
    }
}

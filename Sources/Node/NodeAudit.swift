import Audit
import Engine
import DICOM
import Foundation
import Logging
import Records

/// The node's side of the audit trail: who the node is in a message (its AE title at this host,
/// its process ID) and the events the node's modules report, in DICOM's words. The operational log
/// says what happened without patient data; these records say to whom.
final class NodeAudit: Sendable {
    let trail: AuditTrail
    let node: ActiveParticipant
    let logger: Logger

    init(configuration: NodeConfiguration, logger: Logger) throws {
        let host = ProcessInfo.processInfo.hostName
        trail = try AuditTrail(source: AuditSource(id: "\(configuration.aeTitle)@\(host)", site: configuration.aeTitle),
                               path: configuration.auditFile, syslog: configuration.audit.syslog.flatMap(SyslogDestination.init),
                               logger: logger)
        node = ActiveParticipant(userID: configuration.aeTitle, alternativeUserID: String(ProcessInfo.processInfo.processIdentifier),
                                 isRequestor: false, roles: [.application], networkAccessPoint: host)
        self.logger = logger
    }

    /// The node as the sending or the receiving AE of a transfer.
    func node(as role: AuditRole, requestor: Bool) -> ActiveParticipant {
        var p = node
        p.roles = [role]
        p.isRequestor = requestor
        return p
    }

    func applicationActivity(_ type: AuditEventType) {
        trail.record(.applicationActivity(type, node: node, user: NSUserName()))
    }

    /// The configuration the node runs with: its file(s) and their SHA-256, so a change shows.
    func configurationLoaded(_ configuration: NodeConfiguration, file path: String?) {
        let files = (path.map { [$0] } ?? []) + configuration.include
        let described = files.isEmpty ? "embedded defaults" : files.map { file -> String in
            do { return "\(file) sha256 " + (try LocalizerModel.sha256(ofFileAt: URL(fileURLWithPath: file))) } catch {
                return "\(file) (unreadable: \(error))"
            }
        }.joined(separator: "; ")
        trail.record(.securityAlert(.softwareConfiguration, node: node, by: nil, outcome: .success,
                                    description: "configuration loaded: \(described)", resource: path ?? "embedded defaults"))
    }

    /// An association refused: the peer as it presented itself.
    func associationRefused(_ a: AssociationInfo, reason: String) {
        let peer = ActiveParticipant.applicationEntity(a.callingAETitle, host: Ingest.host(of: a.peerHost), role: .source, requestor: true)
        trail.record(.securityAlert(.nodeAuthentication, node: node, by: peer, outcome: .minorFailure,
                                    description: "association refused: \(reason) (called AE \(a.calledAETitle))",
                                    resource: "dicom://\(a.calledAETitle)"))
    }

    /// A connection refused before an association existed (a bad TLS peer, a malformed request).
    func connectionRefused(host: String, reason: String) {
        let peer = ActiveParticipant(userID: host, isRequestor: true, roles: [.source], networkAccessPoint: host)
        trail.record(.securityAlert(.nodeAuthentication, node: node, by: peer, outcome: .minorFailure,
                                    description: "connection refused: \(reason)", resource: "dicom://\(node.userID)"))
    }

    /// Instances received, one message per study: from the calling AE (or the web user who
    /// uploaded them) to the node.
    func received(_ tally: StudyTally, from source: ActiveParticipant) {
        for study in tally.studies {
            trail.record(.instancesTransferred(study, source: source, destination: node(as: .destination, requestor: false),
                                               action: .create))
        }
    }

    /// The studies of produced objects about to be (or just) sent, read from their headers. A
    /// file that cannot be read is named in the log (its delivery fails on its own).
    func tally(files: [String]) -> StudyTally {
        var tally = StudyTally()
        for path in files {
            do {
                let ds = try DicomDataset(path: path)
                guard let study = ds.text(.studyInstanceUID), let sopClass = ds.text(.sopClassUID) else { continue }
                tally.add(study: study, patientID: ds.text(.patientID), accessionNumber: ds.text(.accessionNumber), sopClass: sopClass)
            } catch {
                logger.error("audit: cannot read a result's header", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
        return tally
    }

    /// Results sent (or a failed attempt), one message per study: from the node to the destination.
    func sent(_ tally: StudyTally, to destination: DicomPeer, outcome: AuditOutcome, why: String?) {
        let peer = ActiveParticipant.applicationEntity(destination.aeTitle, host: destination.host, role: .destination, requestor: false)
        for study in tally.studies {
            trail.record(.instancesTransferred(study, source: node(as: .source, requestor: true), destination: peer,
                                               action: .read, outcome: outcome, outcomeDescription: why))
        }
    }
}

import DICOM
import Foundation
import Logging
import Store

/// The C-STORE path: decides whom to talk to, what to accept, and answers success only once the
/// instance is durable in the spool. Runs on the association threads; logs carry UIDs and AE
/// titles, never patient data.
public final class Ingest: StoreSCPDelegate, @unchecked Sendable {
    let configuration: NodeConfiguration
    let spool: Spool
    let indexer: Indexer
    let logger: Logger
    private let acceptedSOPClasses: Set<String>

    public init(configuration: NodeConfiguration, spool: Spool, indexer: Indexer, logger: Logger) {
        self.configuration = configuration
        self.spool = spool
        self.indexer = indexer
        self.logger = logger
        acceptedSOPClasses = Set(SOPClass.acceptedStorage)
    }

    public func shouldAccept(_ a: AssociationInfo) -> AssociationDecision {
        var meta: Logger.Metadata = ["association": "\(a.id)", "calling_ae": "\(a.callingAETitle)",
                                     "called_ae": "\(a.calledAETitle)", "peer": "\(a.peerHost)"]
        let decision: AssociationDecision
        if a.calledAETitle != configuration.aeTitle {
            decision = .rejectCalledAETitle
        } else if !configuration.allowedCallingAETitles.isEmpty && !configuration.allowedCallingAETitles.contains(a.callingAETitle) {
            decision = .rejectCallingAETitle
        } else if !configuration.allowedHosts.isEmpty && !configuration.allowedHosts.contains(Ingest.host(of: a.peerHost)) {
            decision = .rejectNoReason
        } else {
            decision = .accept
        }
        if case .accept = decision {
            logger.info("association accepted", metadata: meta)
            NodeMetrics.association(accepted: true, reason: "")
        } else {
            meta["decision"] = "\(decision)"
            logger.warning("association rejected", metadata: meta)
            NodeMetrics.association(accepted: false, reason: "\(decision)")
        }
        return decision
    }

    public func storeWillBegin(_ r: StoreRequest) -> StoreBeginDecision {
        if !acceptedSOPClasses.contains(r.affectedSOPClassUID) {
            refuse(r, .sopClassNotSupported, "SOP class not supported")
            return .refuse(.sopClassNotSupported)
        }
        if !UID.isValid(r.affectedSOPInstanceUID) {
            refuse(r, .cannotUnderstand, "AffectedSOPInstanceUID is not a valid UID")
            return .refuse(.cannotUnderstand)
        }
        // Refuse before writing: a full disk must not turn into a half-written, acknowledged file.
        if let free = spool.freeBytes(), free < Int64(configuration.minimumFreeDiskMB) * 1_048_576 {
            refuse(r, .outOfResources, "free disk space below minimum_free_disk_mb")
            return .refuse(.outOfResources)
        }
        return .receive(intoTemporaryPath: spool.temporaryPath())
    }

    public func storeDidEnd(_ r: StoreRequest, temporaryPath tmp: String) -> DIMSEStatus {
        let receivedAt = Date()
        let header: InstanceHeader
        do {
            header = try InstanceHeader.read(path: tmp, expected: (r.affectedSOPClassUID, r.affectedSOPInstanceUID))
        } catch let problem as InstanceHeader.Problem {
            unlink(tmp)
            refuse(r, problem.status, problem.description)
            return problem.status
        } catch {
            unlink(tmp)
            refuse(r, .processingFailure, "\(error)")
            return .processingFailure
        }
        let bytes = fileSize(tmp)
        do {
            switch try spool.commit(temporaryPath: tmp, study: header.studyInstanceUID, series: header.seriesInstanceUID,
                                    sop: header.sopInstanceUID) {
            case .duplicate:
                logger.info("instance already stored; acknowledged again", metadata: metadata(r, header))
            case .stored(let path):
                indexer.enqueue(header.record(path: path, bytes: bytes, receivedAt: receivedAt,
                                              callingAETitle: r.association.callingAETitle))
                logger.debug("instance stored", metadata: metadata(r, header))
            }
            NodeMetrics.instance(status: .success, bytes: bytes, handling: Date().timeIntervalSince(receivedAt))
            return .success
        } catch let failure as Spool.Failure {
            unlink(tmp)
            let status: DIMSEStatus = failure.isOutOfSpace ? .outOfResources : .processingFailure
            refuse(r, status, failure.description)
            return status
        } catch {
            unlink(tmp)
            refuse(r, .processingFailure, "\(error)")
            return .processingFailure
        }
    }

    public func log(level: Int, _ message: String) {
        switch level {
        case 0: logger.debug("\(message)")
        case 1: logger.info("\(message)")
        case 2: logger.warning("\(message)")
        default: logger.error("\(message)")
        }
    }

    private func refuse(_ r: StoreRequest, _ status: DIMSEStatus, _ why: String) {
        NodeMetrics.instance(status: status, bytes: 0, handling: nil)
        logger.warning("C-STORE refused", metadata: [
            "association": "\(r.association.id)", "calling_ae": "\(r.association.callingAETitle)",
            "sop_instance_uid": "\(UID.isValid(r.affectedSOPInstanceUID) ? r.affectedSOPInstanceUID : "<invalid>")",
            "status": "\(status)", "reason": "\(why)"])
    }

    private func metadata(_ r: StoreRequest, _ h: InstanceHeader) -> Logger.Metadata {
        ["association": "\(r.association.id)", "series_instance_uid": "\(h.seriesInstanceUID)",
         "sop_instance_uid": "\(h.sopInstanceUID)", "transfer_syntax": "\(r.transferSyntaxUID)"]
    }

    /// DCMTK reports the peer as "host" or "host:port".
    static func host(of peer: String) -> String {
        if peer.hasPrefix("["), let end = peer.firstIndex(of: "]") { return String(peer[peer.index(after: peer.startIndex)..<end]) }
        if peer.filter({ $0 == ":" }).count == 1, let colon = peer.firstIndex(of: ":") { return String(peer[..<colon]) }
        return peer
    }
}

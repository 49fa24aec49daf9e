import Audit
import DICOM
import Foundation
import Logging
import Store

/// The C-STORE path: decides whom to talk to, what to accept, and answers success only once the
/// instance is durable in the spool. Runs on the association threads; logs carry UIDs and AE
/// titles, never patient data.
public final class Ingest: StoreSCPDelegate, @unchecked Sendable {
    let configuration: NodeConfiguration
    /// Picks the stack of an enhanced instance that describes the series (`Router.stackChoice`).
    let router: Router
    let spool: Spool
    let indexer: Indexer
    let logger: Logger
    let audit: NodeAudit
    private let acceptedSOPClasses: Set<String>
    /// What an open association has stored so far.
    private struct Stored {
        /// By study, for its audit message at its end.
        var studies = StudyTally()
        /// Not complete while the association is open, however long the sender pauses between
        /// instances (a loaded sender, a slow link).
        var series: Set<String> = []
    }
    private var open: [UInt64: Stored] = [:]
    private let openLock = NSLock()

    init(configuration: NodeConfiguration, router: Router, spool: Spool, indexer: Indexer, audit: NodeAudit, logger: Logger) {
        self.configuration = configuration
        self.router = router
        self.spool = spool
        self.indexer = indexer
        self.audit = audit
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
            audit.associationRefused(a, reason: "\(decision)")
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
        if diskTooFull {
            refuse(r, .outOfResources, "free disk space below minimum_free_disk_mb")
            return .refuse(.outOfResources)
        }
        return .receive(intoTemporaryPath: spool.temporaryPath())
    }

    public func storeDidEnd(_ r: StoreRequest, temporaryPath tmp: String) -> DIMSEStatus {
        let (status, header, _) = commit(tmp, expected: (r.affectedSOPClassUID, r.affectedSOPInstanceUID),
                                         callingAETitle: r.association.callingAETitle,
                                         log: ["association": "\(r.association.id)", "calling_ae": "\(r.association.callingAETitle)",
                                               "sop_instance_uid": "\(UID.isValid(r.affectedSOPInstanceUID) ? r.affectedSOPInstanceUID : "<invalid>")"])
        if status.isSuccess, let h = header {
            openLock.lock()
            open[r.association.id, default: Stored()].studies.add(study: h.studyInstanceUID, patientID: h.descriptors.patientID,
                                                                  accessionNumber: h.descriptors.accessionNumber, sopClass: h.sopClassUID)
            open[r.association.id]!.series.insert(h.seriesInstanceUID)
            openLock.unlock()
        }
        return status
    }

    /// Series that an open association is still sending (SeriesAssembler leaves them receiving).
    var seriesInOpenAssociations: Set<String> {
        openLock.lock()
        defer { openLock.unlock() }
        return open.values.reduce(into: Set<String>()) { $0.formUnion($1.series) }
    }

    /// A connection refused before any association (TLS, a malformed request): a security alert.
    public func connectionRefused(peerHost: String, reason: String) {
        audit.connectionRefused(host: Ingest.host(of: peerHost), reason: reason)
    }

    /// The association is over (released, aborted or broken off): what it stored goes into the
    /// audit trail, one message per study.
    public func associationDidEnd(_ a: AssociationInfo) {
        openLock.lock()
        let stored = open.removeValue(forKey: a.id)
        openLock.unlock()
        guard let stored else { return }
        audit.received(stored.studies, from: .applicationEntity(a.callingAETitle, host: Ingest.host(of: a.peerHost), role: .source, requestor: true))
    }

    /// A received data set in `tmp` made durable under its UIDs and queued for the index, or
    /// refused with the status and why; `tmp` is gone either way. C-STORE and STOW-RS both end here,
    /// so an upload gets the same checks and the same durability as a C-STORE.
    func commit(_ tmp: String, expected: (sopClass: String, sopInstance: String)?, callingAETitle: String?,
                log: Logger.Metadata) -> (status: DIMSEStatus, header: InstanceHeader?, reason: String?) {
        let receivedAt = Date()
        func refused(_ status: DIMSEStatus, _ why: String, _ header: InstanceHeader? = nil) -> (DIMSEStatus, InstanceHeader?, String?) {
            unlink(tmp)
            refuse(status, why, log)
            return (status, header, why)
        }
        let header: InstanceHeader
        do {
            header = try InstanceHeader.read(path: tmp, expected: expected, stackChoice: router.stackChoice)
        } catch let problem as InstanceHeader.Problem {
            return refused(problem.status, problem.description)
        } catch {
            return refused(.processingFailure, "\(error)")
        }
        // A C-STORE's SOP class was checked before its data set was read (and the header matched the
        // command); an upload's is known only now.
        if expected == nil, !acceptedSOPClasses.contains(header.sopClassUID) {
            return refused(.sopClassNotSupported, "SOP class not supported", header)
        }
        let bytes = fileSize(tmp)
        let meta = log.merging(metadata(header)) { $1 }
        do {
            switch try spool.commit(temporaryPath: tmp, study: header.studyInstanceUID, series: header.seriesInstanceUID,
                                    sop: header.sopInstanceUID) {
            case .duplicate:
                logger.info("instance already stored; acknowledged again", metadata: meta)
            case .stored(let path):
                indexer.enqueue(header.record(path: path, bytes: bytes, receivedAt: receivedAt, callingAETitle: callingAETitle))
                logger.debug("instance stored", metadata: meta)
            }
            NodeMetrics.instance(status: .success, bytes: bytes, handling: Date().timeIntervalSince(receivedAt))
            return (.success, header, nil)
        } catch let failure as Spool.Failure {
            return refused(failure.isOutOfSpace ? .outOfResources : .processingFailure, failure.description, header)
        } catch {
            return refused(.processingFailure, "\(error)", header)
        }
    }

    /// C-STORE is refused (or an upload turned away) below `minimum_free_disk_mb`.
    var diskTooFull: Bool {
        guard let free = spool.freeBytes() else { return false }
        return free < Int64(configuration.minimumFreeDiskMB) * 1_048_576
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
        refuse(status, why, ["association": "\(r.association.id)", "calling_ae": "\(r.association.callingAETitle)",
                             "sop_instance_uid": "\(UID.isValid(r.affectedSOPInstanceUID) ? r.affectedSOPInstanceUID : "<invalid>")"])
    }

    private func refuse(_ status: DIMSEStatus, _ why: String, _ log: Logger.Metadata) {
        NodeMetrics.instance(status: status, bytes: 0, handling: nil)
        logger.warning(log["association"] != nil ? "C-STORE refused" : "upload refused",
                       metadata: log.merging(["status": "\(status)", "reason": "\(why)"]) { $1 })
    }

    private func metadata(_ h: InstanceHeader) -> Logger.Metadata {
        ["series_instance_uid": "\(h.seriesInstanceUID)", "sop_instance_uid": "\(h.sopInstanceUID)", "transfer_syntax": "\(h.transferSyntaxUID)"]
    }

    /// DCMTK reports the peer as "host" or "host:port".
    static func host(of peer: String) -> String {
        if peer.hasPrefix("["), let end = peer.firstIndex(of: "]") { return String(peer[peer.index(after: peer.startIndex)..<end]) }
        if peer.filter({ $0 == ":" }).count == 1, let colon = peer.firstIndex(of: ":") { return String(peer[..<colon]) }
        return peer
    }
}

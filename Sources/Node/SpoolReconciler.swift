import Foundation
import Logging
import Store

/// Forgets partial receptions whose writer is gone (never another live node's, see
/// SpoolReceiver), and indexes every committed file the database lacks: at start, and while
/// running whenever another process sharing the spool is found gone.
public struct SpoolReconciler {
    let spool: Spool
    let index: InstanceIndex
    let logger: Logger
    /// Picks the stack of an enhanced instance that describes the series, as `Ingest` does.
    let router: Router

    public init(spool: Spool, index: InstanceIndex, router: Router, logger: Logger) {
        self.spool = spool
        self.index = index
        self.router = router
        self.logger = logger
    }

    /// At start: always. Returns how many files were indexed.
    @discardableResult
    public func reconcile() throws -> Int {
        try removeIncomplete()
        return try indexMissing()
    }

    /// While running, when several processes share the spool: only when another writer is found
    /// gone (killed: its marker is left and no longer locked), since what it acknowledged but had
    /// not indexed yet is in the spool and nowhere else. Returns how many files were indexed.
    @discardableResult
    public func reconcileIfAWriterIsGone() throws -> Int {
        guard try removeIncomplete() > 0 else { return 0 }
        return try indexMissing()
    }

    /// Returns how many writers were found gone.
    private func removeIncomplete() throws -> Int {
        let gone = try spool.removeIncomplete()
        if gone.writers > 0 {
            logger.info("receivers gone; their unacknowledged partial receptions removed",
                        metadata: ["receivers": "\(gone.writers)", "files": "\(gone.parts)"])
        }
        if gone.replayed > 0 {
            logger.info("receivers gone; their journals replayed into the spool", metadata: ["replayed": "\(gone.replayed)"])
        }
        return gone.writers
    }

    private func indexMissing() throws -> Int {
        let known = try index.indexedPaths()
        var missing: [InstanceRecord] = []
        for path in spool.committedFiles() where !known.contains(path) {
            do {
                let h = try InstanceHeader.read(path: path, expected: nil, stackChoice: router.stackChoice)
                var st = stat()
                stat(path, &st)
                let mtime = Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
                missing.append(h.record(path: path, bytes: Int64(st.st_size), receivedAt: mtime, callingAETitle: nil))
            } catch {
                logger.error("spool file unreadable; left in place", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
        var added = 0
        for chunk in stride(from: 0, to: missing.count, by: 500) {
            added += try index.index(Array(missing[chunk..<min(chunk + 500, missing.count)]))
        }
        if !missing.isEmpty { logger.info("spool reconciled", metadata: ["indexed": "\(added)"]) }
        return added
    }
}

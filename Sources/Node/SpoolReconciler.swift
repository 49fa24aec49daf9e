import Foundation
import Logging
import Store

/// At start: forget partial receptions, and index every committed file the database lacks.
public struct SpoolReconciler {
    let spool: Spool
    let index: InstanceIndex
    let logger: Logger

    public init(spool: Spool, index: InstanceIndex, logger: Logger) {
        self.spool = spool
        self.index = index
        self.logger = logger
    }

    @discardableResult
    public func reconcile() throws -> Int {
        let partial = spool.removeIncomplete()
        if partial > 0 { logger.info("removed unacknowledged partial receptions", metadata: ["files": "\(partial)"]) }
        let known = try index.indexedPaths()
        var missing: [InstanceRecord] = []
        for path in spool.committedFiles() where !known.contains(path) {
            do {
                let h = try InstanceHeader.read(path: path, expected: nil)
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

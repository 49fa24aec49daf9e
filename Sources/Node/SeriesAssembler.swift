import Foundation
import Logging
import Store

/// Declares series complete after the quiet period and routes them (one transaction per tick).
/// The pending state is the `series` table itself, so it survives restarts; a late instance sets
/// the series back to `receiving` (Store.InstanceIndex.index) and it completes again later.
public final class SeriesAssembler: @unchecked Sendable {
    let index: InstanceIndex
    let indexer: Indexer
    let router: Router
    let quiet: TimeInterval
    let logger: Logger
    /// Called with each series that completed, after its transaction committed.
    var onComplete: (SeriesRecord) -> Void = { _ in }
    /// Series routed to the localizer get an analysis job for this model, in the completing transaction.
    var model: ModelIdentity?

    public init(index: InstanceIndex, indexer: Indexer, router: Router, quietSeconds: TimeInterval, logger: Logger) {
        self.index = index
        self.indexer = indexer
        self.router = router
        self.quiet = quietSeconds
        self.logger = logger
    }

    /// One pass. Returns the series completed.
    @discardableResult
    public func tick(now: Date = Date()) throws -> [SeriesRecord] {
        var cutoff = now.addingTimeInterval(-quiet)
        // Instances received but not yet indexed still count as activity.
        if let pending = indexer.oldestPendingReceivedAt, pending < cutoff { cutoff = pending }
        let completed = try index.completeQuietSeries(quietSince: cutoff, now: now, model: model) { router.route($0.descriptors) }
        for s in completed {
            logger.info("series complete", metadata: [
                "series_instance_uid": "\(s.seriesInstanceUID)", "instances": "\(s.instances)",
                "route": "\(s.route?.rawValue ?? "-")", "reason": "\(s.reason ?? "")"])
            onComplete(s)
        }
        return completed
    }
}

/// Removes the files of ignored series once their retention has passed.
public final class RetentionSweeper: @unchecked Sendable {
    let index: InstanceIndex
    let spool: Spool
    let retention: TimeInterval
    let logger: Logger

    public init(index: InstanceIndex, spool: Spool, retentionHours: Double, logger: Logger) {
        self.index = index
        self.spool = spool
        self.retention = retentionHours * 3600
        self.logger = logger
    }

    @discardableResult
    public func sweep(now: Date = Date()) throws -> Int {
        var purged = 0
        for uid in try index.ignoredSeriesToPurge(completedBefore: now.addingTimeInterval(-retention)) {
            // Files first, then the rows: a crash in between leaves rows whose files are gone, which
            // the next sweep finishes; never files without rows (the reconciliation would re-index them).
            let paths = try index.instancePaths(seriesInstanceUID: uid)
            spool.remove(paths: paths)
            if try index.markPurged(seriesInstanceUID: uid, paths: paths, at: now) {
                purged += 1
                logger.info("ignored series purged", metadata: ["series_instance_uid": "\(uid)", "files": "\(paths.count)"])
            }
        }
        return purged
    }
}

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

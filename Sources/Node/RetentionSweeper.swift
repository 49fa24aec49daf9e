import Foundation
import Logging
import Store

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

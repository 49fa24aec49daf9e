import Audit
import Foundation
import Logging
import Store

/// Removes the received files of series nothing needs any more (`InstanceIndex.purgeable`: complete,
/// no analysis pending or running, every delivery of its results sent or dead), keeping the
/// flags, SRs and key images (results/):
/// - ignored series `ignored_retention_hours` after their completion;
/// - every series `received_retention_days` after its last instance arrived;
/// - while the spool's free space is below `retention_free_disk_mb`, the oldest purgeable series
///   first (by last receipt), one at a time, until the free space is back above it.
public final class RetentionSweeper: @unchecked Sendable {
    let index: InstanceIndex
    let spool: Spool
    let ignoredRetention: TimeInterval
    let receivedRetention: TimeInterval
    let freeTargetBytes: Int64
    let audit: NodeAudit
    let logger: Logger

    init(index: InstanceIndex, spool: Spool, configuration: NodeConfiguration, audit: NodeAudit, logger: Logger) {
        self.index = index
        self.spool = spool
        ignoredRetention = configuration.ignoredRetentionHours * 3600
        receivedRetention = configuration.receivedRetentionDays * 86400
        freeTargetBytes = Int64(configuration.retentionFreeDiskMB) * 1_048_576
        self.audit = audit
        self.logger = logger
    }

    /// How often the sweep runs: a quarter of the shorter retention, between 1 s and a minute.
    public static func interval(_ c: NodeConfiguration) -> TimeInterval {
        min(60, max(1, min(c.ignoredRetentionHours * 3600, c.receivedRetentionDays * 86400) / 4))
    }

    /// Returns the number of series purged.
    @discardableResult
    public func sweep(now: Date = Date()) throws -> Int {
        var purged = 0
        for c in try index.seriesToPurge(ignoredCompletedBefore: now.addingTimeInterval(-ignoredRetention),
                                         receivedBefore: now.addingTimeInterval(-receivedRetention)) {
            let ignoredDue = c.route == .ignored && (c.completedAt ?? now) < now.addingTimeInterval(-ignoredRetention)
            if try purge(c, reason: ignoredDue ? .ignoredRetention : .receivedRetention, at: now) { purged += 1 }
        }
        guard underPressure() else { return purged }
        for c in try index.seriesToPurge(ignoredCompletedBefore: now, receivedBefore: now, anyAge: true) {
            guard underPressure() else { break }
            // Each purge its own time: the order the files went in stays visible.
            if try purge(c, reason: .diskPressure, at: Date()) { purged += 1 }
        }
        if underPressure() {
            logger.warning("free disk space still below the retention target; nothing more may be purged yet",
                           metadata: ["free_mb": "\((spool.freeBytes() ?? 0) / 1_048_576)", "target_mb": "\(freeTargetBytes / 1_048_576)"])
        }
        return purged
    }

    private func underPressure() -> Bool {
        guard let free = spool.freeBytes() else {
            logger.error("cannot read the spool's free disk space; no purge for disk pressure")
            return false
        }
        return free < freeTargetBytes
    }

    private func purge(_ c: PurgeCandidate, reason: PurgeReason, at: Date) throws -> Bool {
        let record = try index.series(uid: c.seriesInstanceUID)
        guard let files = try index.purge(seriesInstanceUID: c.seriesInstanceUID, reason: reason, at: at,
                                          removeFiles: { try spool.remove(paths: $0) }) else { return false }
        logger.info("series purged", metadata: [
            "series_instance_uid": "\(c.seriesInstanceUID)", "route": "\(c.route?.rawValue ?? "none")",
            "reason": "\(reason.rawValue)", "files": "\(files)"])
        NodeMetrics.seriesPurged(reason: reason.rawValue)
        if let record {
            var study = StudyInstances(studyInstanceUID: record.studyInstanceUID, patientID: record.descriptors.patientID)
            // The series' SOP class as its first instance declared it; without one the count stands alone.
            if let sopClass = record.sopClassUID { study.sopClasses = [sopClass: files] }
            if let a = record.descriptors.accessionNumber { study.accessionNumbers = [a] }
            audit.trail.record(.studyDeleted(study, node: audit.node,
                                             reason: "\(files) received images of series \(c.seriesInstanceUID) purged: \(reason.rawValue)"))
        }
        return true
    }
}

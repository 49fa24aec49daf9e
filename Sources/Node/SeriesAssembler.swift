import Foundation
import Logging
import Records
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
    /// Series whose sender is still connected (Ingest's open associations): the quiet period starts
    /// when their association ends, not at a pause inside it.
    var sending: () -> Set<String> = { [] }

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
        // A series with an instance received but not yet indexed, or still being sent on an open
        // association, is still active, however quiet its rows look.
        let completed = try index.completeQuietSeries(quietSince: now.addingTimeInterval(-quiet), now: now,
                                                      excluding: indexer.pendingSeriesInstanceUIDs.union(sending()), model: model) {
            router.route($0.descriptors)
        }
        for s in completed {
            logger.info("series complete", metadata: [
                "series_instance_uid": "\(s.seriesInstanceUID)", "instances": "\(s.instances)",
                "route": "\(s.route?.rawValue ?? "-")", "reason": "\(s.reason ?? "")"])
            onComplete(s)
        }
        return completed
    }
}

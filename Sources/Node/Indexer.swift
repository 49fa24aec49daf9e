import Foundation
import Logging
import Store

/// Moves committed instances into the PostgreSQL index, off the association threads.
///
/// The C-STORE callback only appends to an in-memory queue (the file is already durable); this
/// thread drains it in batches, one transaction a batch. If PostgreSQL is down the queue waits and
/// retries with backoff; if the node dies, the spool reconciliation re-finds the files at start.
public final class Indexer: @unchecked Sendable {
    private let index: InstanceIndex
    private let logger: Logger
    private let condition = NSCondition()
    private var queue: [InstanceRecord] = []
    private var inFlight: [InstanceRecord] = []
    private var stopping = false
    private var thread: Thread?
    private let maxBatch = 500

    public init(index: InstanceIndex, logger: Logger) {
        self.index = index
        self.logger = logger
    }

    public func enqueue(_ record: InstanceRecord) {
        condition.lock()
        queue.append(record)
        condition.signal()
        condition.unlock()
    }

    /// The series with an instance received but not yet indexed: they are not declared complete
    /// until it is, so a lagging index (a database outage) never completes a series early.
    public var pendingSeriesInstanceUIDs: Set<String> {
        condition.lock(); defer { condition.unlock() }
        return Set((queue + inFlight).map(\.seriesInstanceUID))
    }

    public var pendingCount: Int {
        condition.lock(); defer { condition.unlock() }
        return queue.count + inFlight.count
    }

    public func start() {
        let t = Thread { [self] in run() }
        t.name = "indexer"
        thread = t
        t.start()
    }

    /// Indexes what is queued, then stops (bounded by `timeout`).
    public func stop(timeout: TimeInterval) {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        let deadline = Date().addingTimeInterval(timeout)
        while pendingCount > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if pendingCount > 0 {
            logger.warning("index not drained at shutdown; the spool reconciliation will index the rest (at the next start, or by another node sharing the spool)",
                           metadata: ["pending": "\(pendingCount)"])
        }
    }

    private func run() {
        var backoff = 0.25
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping { condition.unlock(); return }
            inFlight = Array(queue.prefix(maxBatch))
            queue.removeFirst(inFlight.count)
            let batch = inFlight
            condition.unlock()
            do {
                let added = try index.index(batch)
                logger.debug("indexed", metadata: ["instances": "\(batch.count)", "new": "\(added)"])
                condition.lock(); inFlight = []; condition.unlock()
                backoff = 0.25
            } catch {
                logger.error("indexing failed; will retry", metadata: ["error": "\(error)", "batch": "\(batch.count)"])
                NodeMetrics.databaseError(component: "indexer")
                condition.lock()
                queue.insert(contentsOf: inFlight, at: 0)
                inFlight = []
                let give = stopping
                condition.unlock()
                if give { return }
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(backoff * 2, 10)
            }
        }
    }
}

import DICOM
import Foundation
import Logging
import Store

/// Delivers produced objects to their destinations: claims due outbox rows, sends them per
/// destination in one association (DCMTK SCU, TCP_NODELAY), and records the outcome. Success and
/// warnings (B000, B006, B007) count as stored; a permanent refusal is dead at once; everything
/// else is retried with exponential backoff and jitter until `max_attempts`, then dead.
public final class OutboxSender: @unchecked Sendable {
    let pipeline: Pipeline
    let results: ResultsConfiguration
    let callingAETitle: String
    let logger: Logger
    private let wake = NSCondition()
    private var woken = false
    private var stopping = false
    private var thread: Thread?

    public init(pipeline: Pipeline, results: ResultsConfiguration, callingAETitle: String, logger: Logger) {
        self.pipeline = pipeline
        self.results = results
        self.callingAETitle = callingAETitle
        self.logger = logger
    }

    public func start() {
        let t = Thread { [self] in loop() }
        t.name = "outbox"
        thread = t
        t.start()
    }

    /// New work is waiting (called after an analysis finished).
    public func nudge() {
        wake.lock(); woken = true; wake.signal(); wake.unlock()
    }

    public func stop() {
        wake.lock(); stopping = true; wake.signal(); wake.unlock()
    }

    private func loop() {
        while true {
            wake.lock()
            if stopping { wake.unlock(); return }
            if !woken { _ = wake.wait(until: Date().addingTimeInterval(1)) }
            woken = false
            let stop = stopping
            wake.unlock()
            if stop { return }
            do { try deliverDue() } catch {
                logger.error("outbox pass failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

    /// One pass over what is due. Returns how many deliveries were attempted.
    @discardableResult
    public func deliverDue(now: Date = Date()) throws -> Int {
        let due = try pipeline.claimDeliveries(now: now)
        let groups = Dictionary(grouping: due, by: \.destination)
        for (destination, items) in groups { deliver(items, to: destination) }
        return due.count
    }

    private func deliver(_ items: [OutboxItem], to d: Destination) {
        let peer = DicomPeer(aeTitle: d.aeTitle, host: d.host, port: d.port)
        let meta: Logger.Metadata = ["destination": "\(d.aeTitle)@\(d.host):\(d.port)", "objects": "\(items.count)"]
        do {
            let statuses = try StoreSCU.send(files: items.map(\.path), to: peer, callingAETitle: callingAETitle)
            for (item, status) in zip(items, statuses) { record(item, status: status) }
        } catch StoreSCUError.noPresentationContext(let why) {
            // The destination does not take one of the SOP classes: that will not change by
            // retrying, but it must not hold back the objects it does take.
            if items.count > 1 {
                for item in items { deliver([item], to: d) }
            } else if let item = items.first {
                try? pipeline.markDead(item.id, status: nil, error: "destination does not accept this SOP class: \(why)")
                logger.error("delivery refused (SOP class not accepted); dead", metadata: meta)
            }
        } catch StoreSCUError.associationRejected(let permanent, let reason) where permanent {
            logger.error("destination rejected the association permanently; deliveries dead", metadata: meta.merging(["reason": "\(reason)"]) { $1 })
            for item in items { try? pipeline.markDead(item.id, status: nil, error: "association rejected: \(reason)") }
        } catch {
            logger.warning("delivery failed; will retry", metadata: meta.merging(["error": "\(error)"]) { $1 })
            for item in items { retryOrDie(item, status: nil, error: "\(error)") }
        }
    }

    private func record(_ item: OutboxItem, status: DIMSEStatus) {
        let meta: Logger.Metadata = ["outbox_id": "\(item.id)", "sop_instance_uid": "\(item.sopInstanceUID)",
                                     "destination": "\(item.destination.aeTitle)", "status": "\(status)"]
        if status.isSuccess || status.isWarning {
            try? pipeline.markSent(item.id, status: status.description, now: Date())
            logger.info("delivered", metadata: meta)
        } else if OutboxSender.isPermanent(status) {
            try? pipeline.markDead(item.id, status: status.description, error: "refused by the destination")
            logger.error("delivery refused permanently; dead", metadata: meta)
        } else {
            retryOrDie(item, status: status.description, error: "failure status from the destination")
        }
    }

    private func retryOrDie(_ item: OutboxItem, status: String?, error: String) {
        let attempts = item.attempts + 1
        if attempts >= results.maxAttempts {
            try? pipeline.markDead(item.id, status: status, error: "\(error) (after \(attempts) attempts)")
            logger.error("delivery dead after the last attempt", metadata: ["outbox_id": "\(item.id)", "attempts": "\(attempts)"])
        } else {
            let next = Date().addingTimeInterval(OutboxSender.backoff(attempt: attempts, initial: results.initialBackoffSeconds,
                                                                       max: results.maxBackoffSeconds))
            try? pipeline.markRetry(item.id, status: status, error: error, next: next)
        }
    }

    /// Exponential backoff with "equal jitter": half the delay fixed, half random, so a PACS coming
    /// back is not hit by every node at the same instant.
    public static func backoff(attempt: Int, initial: Double, max: Double,
                               random: () -> Double = { Double.random(in: 0..<1) }) -> Double {
        let base = Swift.min(max, initial * pow(2, Double(Swift.max(0, attempt - 1))))
        return base / 2 + base / 2 * random()
    }

    /// Refusals that will not change by retrying: SOP class not supported, data set does not match
    /// (A9xx), cannot understand (Cxxx), and the other 01xx failures. Out of resources (A7xx) may.
    public static func isPermanent(_ s: DIMSEStatus) -> Bool {
        let v = s.rawValue
        if (v & 0xFF00) == 0xA700 { return false }
        if v == 0x0110 { return false }  // processing failure: may pass next time
        return (v & 0xFF00) == 0xA900 || (v & 0xF000) == 0xC000 || (v & 0xFF00) == 0x0100
    }
}

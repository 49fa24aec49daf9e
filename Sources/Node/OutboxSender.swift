import DICOM
import Foundation
import Logging
import Records
import Store

enum OutboxError: Error, CustomStringConvertible {
    case outcomesNotRecorded(Int)
    case notStarted
    var description: String {
        switch self {
        case .notStarted: return "the outbox sender was not started with a claim owner"
        case let .outcomesNotRecorded(n): return "\(n) delivery outcome(s) still not recorded in the database; no new deliveries until they are"
        }
    }
}

/// Delivers produced objects to their destinations: claims due outbox rows, sends them per
/// destination in one association (DCMTK SCU, TCP_NODELAY), and records the outcome. Success and
/// warnings (B000, B006, B007) count as stored; a permanent refusal is dead at once; everything
/// else is retried with exponential backoff and jitter until `max_attempts`, then dead.
public final class OutboxSender: @unchecked Sendable {
    let pipeline: Pipeline
    let results: ResultsConfiguration
    let callingAETitle: String
    /// The configured peers and destinations: a destination's TLS settings, by address.
    let knownPeers: [DicomPeer]
    let audit: NodeAudit
    let logger: Logger
    private let wake = NSCondition()
    private var woken = false
    private var stopping = false
    private var thread: Thread?
    /// Whose claims this sender's deliveries are (set by `start`).
    private var owner: ClaimOwner?
    /// Outcomes whose database write failed, retried first on every pass: a delivery is never left
    /// `sending` while the node runs (when a node dies its `sending` rows go back to pending and are
    /// sent again, which a PACS takes as the same instance).
    private var unrecorded: [Outcome] = []

    /// One delivery outcome to write to the outbox row.
    struct Outcome {
        let item: OutboxItem
        let what: OutboxState
        let write: (Pipeline) throws -> Void
    }

    init(pipeline: Pipeline, results: ResultsConfiguration, callingAETitle: String, knownPeers: [DicomPeer] = [],
         audit: NodeAudit, logger: Logger) {
        self.pipeline = pipeline
        self.results = results
        self.callingAETitle = callingAETitle
        self.knownPeers = knownPeers
        self.audit = audit
        self.logger = logger
    }

    public func start(owner: ClaimOwner) {
        self.owner = owner
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
        let pending = unrecorded
        unrecorded = []
        for outcome in pending where persist(outcome) {
            logger.notice("delivery outcome recorded after a database error", metadata: [
                "outbox_id": "\(outcome.item.id)", "outcome": "\(outcome.what.rawValue)"])
        }
        guard unrecorded.isEmpty else { throw OutboxError.outcomesNotRecorded(unrecorded.count) }
        guard let owner else { throw OutboxError.notStarted }
        let due = try pipeline.claimDeliveries(now: now, owner: owner.id)
        let groups = Dictionary(grouping: due, by: \.destination)
        for (destination, items) in groups { deliver(items, to: destination) }
        return due.count
    }

    private func deliver(_ items: [OutboxItem], to d: DicomPeer) {
        let meta: Logger.Metadata = ["destination": "\(d)", "objects": "\(items.count)"]
        logger.info("delivering", metadata: meta.merging(["claim_owner": "\(items.first?.claimant.map(String.init) ?? "-")"]) { $1 })
        do {
            // The outbox row holds the address; DICOM TLS, when the destination has it, comes from the configuration.
            var peer = d
            peer.tls = knownPeers.first(where: { $0.sameAddress(d) })?.tls
            let statuses = try StoreSCU.send(files: items.map(\.path), to: peer, callingAETitle: callingAETitle)
            for (item, status) in zip(items, statuses) { record(item, status: status) }
            let sent = zip(items, statuses).filter { $0.1.isStored }.map(\.0)
            if !sent.isEmpty { audit.sent(audit.tally(files: sent.map(\.path)), to: d, outcome: .success, why: nil) }
            let refused = zip(items, statuses).filter { !$0.1.isStored }
            if !refused.isEmpty {
                audit.sent(audit.tally(files: refused.map(\.0.path)), to: d, outcome: .minorFailure,
                           why: "refused by the destination: " + refused.map { "\($0.1)" }.joined(separator: ", "))
            }
        } catch StoreSCUError.noPresentationContext(let why) {
            // The destination does not take one of the SOP classes: that will not change by
            // retrying, but it must not hold back the objects it does take.
            if items.count > 1 {
                for item in items { deliver([item], to: d) }
            } else if let item = items.first {
                let error = "destination does not accept this SOP class: \(why)"
                if persist(Outcome(item: item, what: .dead) { try $0.markDead(item, status: nil, error: error) }) {
                    logger.error("delivery refused (SOP class not accepted); dead", metadata: meta)
                }
                audit.sent(audit.tally(files: [item.path]), to: d, outcome: .minorFailure, why: error)
            }
        } catch StoreSCUError.associationRejected(let permanent, let reason) where permanent {
            audit.sent(audit.tally(files: items.map(\.path)), to: d, outcome: .minorFailure, why: "association rejected: \(reason)")
            logger.error("destination rejected the association permanently; deliveries dead", metadata: meta.merging(["reason": "\(reason)"]) { $1 })
            for item in items {
                persist(Outcome(item: item, what: .dead) { try $0.markDead(item, status: nil, error: "association rejected: \(reason)") })
            }
        } catch {
            logger.warning("delivery failed; will retry", metadata: meta.merging(["error": "\(error)"]) { $1 })
            audit.sent(audit.tally(files: items.map(\.path)), to: d, outcome: .minorFailure, why: "\(error)")
            for item in items { retryOrDie(item, status: nil, error: "\(error)") }
        }
    }

    private func record(_ item: OutboxItem, status: DIMSEStatus) {
        let meta: Logger.Metadata = ["outbox_id": "\(item.id)", "sop_instance_uid": "\(item.sopInstanceUID)",
                                     "destination": "\(item.destination.aeTitle)", "status": "\(status)"]
        if status.isStored {
            let at = Date()
            if persist(Outcome(item: item, what: .sent) { try $0.markSent(item, status: status.description, now: at) }) {
                logger.info("delivered", metadata: meta)
            }
        } else if OutboxSender.isPermanent(status) {
            if persist(Outcome(item: item, what: .dead) { try $0.markDead(item, status: status.description, error: "refused by the destination") }) {
                logger.error("delivery refused permanently; dead", metadata: meta)
            }
        } else {
            retryOrDie(item, status: status.description, error: "failure status from the destination")
        }
    }

    private func retryOrDie(_ item: OutboxItem, status: String?, error: String) {
        let attempts = item.attempts + 1
        if attempts >= results.maxAttempts {
            if persist(Outcome(item: item, what: .dead) { try $0.markDead(item, status: status, error: "\(error) (after \(attempts) attempts)") }) {
                logger.error("delivery dead after the last attempt", metadata: ["outbox_id": "\(item.id)", "attempts": "\(attempts)"])
            }
        } else {
            let next = Date().addingTimeInterval(OutboxSender.backoff(attempt: attempts, initial: results.initialBackoffSeconds,
                                                                       max: results.maxBackoffSeconds))
            persist(Outcome(item: item, what: .pending) { try $0.markRetry(item, status: status, error: error, next: next) })
        }
    }

    /// Writes an outcome; when the database refuses, logs it and keeps it for the next pass.
    @discardableResult
    private func persist(_ outcome: Outcome) -> Bool {
        do {
            try outcome.write(pipeline)
            NodeMetrics.delivery(outcome: outcome.what.rawValue)
            return true
        } catch let lost as ClaimLost {
            // Another claim now has the delivery and records its own outcome; writing this one
            // again would never succeed.
            logger.warning("delivery outcome not recorded", metadata: [
                "outbox_id": "\(outcome.item.id)", "outcome": "\(outcome.what.rawValue)", "reason": "\(lost)"])
            return false
        } catch {
            NodeMetrics.databaseError(component: "outbox")
            logger.error("cannot record the delivery outcome; will write it again", metadata: [
                "outbox_id": "\(outcome.item.id)", "outcome": "\(outcome.what.rawValue)", "error": "\(error)"])
            unrecorded.append(outcome)
            return false
        }
    }

    /// Exponential backoff with "equal jitter": half the delay fixed, half random, so a PACS coming
    /// back is not hit by every node at the same instant.
    public static func backoff(attempt: Int, initial: Double, max: Double,
                               random: () -> Double = { Double.random(in: 0..<1) }) -> Double {
        let base = Swift.min(max, initial * pow(2, Double(Swift.max(0, attempt - 1))))
        return base / 2 + base / 2 * random()
    }

    /// Refusals that will not change by retrying: SOP class not supported and the other 01xx
    /// refusals, data set does not match (A9xx), cannot understand (Cxxx). Out of resources (A7xx),
    /// a processing failure (0110) and unknown failures may pass next time.
    public static func isPermanent(_ s: DIMSEStatus) -> Bool {
        switch s.category {
        case .refused, .dataSetDoesNotMatchSOPClass, .cannotUnderstand: return true
        case .success, .warning, .cancel, .pending, .outOfResources, .processingFailure, .otherFailure: return false
        }
    }
}

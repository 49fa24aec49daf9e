import DICOM
import Foundation
import Metrics

/// Every metric the node exports, each named once (Prometheus names; dimensions are labels). The
/// counters are bumped where things happen; the gauges (`lstv_series`, `lstv_outbox`, free disk,
/// active associations) are read from the database, the disk and the listener when `/metrics` is
/// scraped. Without a metrics backend (`analyze`, tests) they cost nothing.
enum NodeMetrics {
    /// An association request and what was decided (`reason`: the rejection, empty when accepted).
    static func association(accepted: Bool, reason: String) {
        Counter(label: "lstv_associations_total", dimensions: [("outcome", accepted ? "accepted" : "rejected"), ("reason", reason)]).increment()
    }

    /// A C-STORE answered: its status, the bytes received, and how long the node took once the data
    /// set was in (parse, checks, durable commit).
    static func instance(status: DIMSEStatus, bytes: Int64, handling: TimeInterval?) {
        // The stored case is every C-STORE: its handles are made once, not looked up per instance.
        if status == .success { stored.increment() } else {
            Counter(label: "lstv_instances_received_total", dimensions: [("status", status.description)]).increment()
        }
        if bytes > 0 { receivedBytes.increment(by: bytes) }
        if let handling { storeHandling.recordSeconds(handling) }
    }

    // Made on first use, after `serve` bootstrapped the metrics backend (NodeService.run does that
    // before any thread that counts starts).
    private static let stored = Counter(label: "lstv_instances_received_total", dimensions: [("status", DIMSEStatus.success.description)])
    private static let receivedBytes = Counter(label: "lstv_received_bytes_total")
    private static let storeHandling = Timer(label: "lstv_cstore_handling_seconds")

    enum AnalysisOutcome: String { case done, failed }

    static func analysis(model: String, outcome: AnalysisOutcome, seconds: TimeInterval, risk: String?) {
        Counter(label: "lstv_analyses_total", dimensions: [("model", model), ("outcome", outcome.rawValue)]).increment()
        Timer(label: "lstv_analysis_seconds", dimensions: [("model", model)]).recordSeconds(seconds)
        // The flag rate, per risk: to see it drift.
        if let risk { Counter(label: "lstv_flags_total", dimensions: [("risk", risk)]).increment() }
    }

    /// A delivery attempt's outcome (`sent`, `pending` for a retry, `dead`).
    static func delivery(outcome: String) {
        Counter(label: "lstv_delivery_attempts_total", dimensions: [("outcome", outcome)]).increment()
    }

    /// A series whose received files the retention sweep removed, and why (`PurgeReason`).
    static func seriesPurged(reason: String) {
        Counter(label: "lstv_series_purged_total", dimensions: [("reason", reason)]).increment()
    }

    /// A database call that failed (the work is retried; the count shows an unhealthy database).
    static func databaseError(component: String) {
        Counter(label: "lstv_database_errors_total", dimensions: [("component", component)]).increment()
    }

    static func gauge(_ label: String, _ value: Double, _ dimensions: [(String, String)] = []) {
        Gauge(label: label, dimensions: dimensions).record(value)
    }
}

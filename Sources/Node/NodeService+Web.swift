import Audit
import DICOM
import Foundation
import Logging
import Metrics
import Prometheus
import Store
import Web

/// The web face of a running node: its metrics backend, its tokens, its readiness.
extension NodeService: NodeStatus {
    /// The metrics backend: bootstrapped, when the web face serves `/metrics`, before any thread
    /// that counts starts, so every handle (some are made once, on first use) reports to it.
    func bootstrapMetrics() -> WebMetrics {
        guard configuration.http.port != 0 else { return .off }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return .served(registry)
    }

    /// Starts the HTTP server unless `http.port` is 0 (`metrics` is then `.off`). Without configured
    /// tokens, the admin token made on the first start is accepted (and printed that once).
    func startWeb(metrics: WebMetrics) throws {
        let http = configuration.http
        guard case .served(let registry) = metrics else { return }
        var records = http.tokens
        if records.isEmpty {
            let (admin, newToken) = try TokenStore.firstStartAdmin(dataDirectory: configuration.dataDirectory)
            records = [admin]
            if let newToken {
                let address = "\(http.tls.files == nil ? "http" : "https")://\(http.host == "0.0.0.0" ? "localhost" : http.host):\(http.port)/"
                // Shown once, on the terminal that started the node; only its hash is kept.
                // Written unbuffered: stdout may be a file (systemd's journal, a test's log).
                FileHandle.standardOutput.write(Data("lstv-node: dashboard \(address)  admin token (shown once, keep it): \(newToken)\n".utf8))
                logger.notice("admin token created; only its hash is kept", metadata: ["address": "\(address)"])
            }
        }
        let server = WebServer(configuration: .init(host: http.host, port: http.port, tokens: TokenStore(records: records),
                                                    maxUploadBytes: http.maxUploadMB * 1_048_576,
                                                    tls: http.tls.files),
                               database: database, status: self, receiver: UploadIntake(ingest: ingest, spool: spool),
                               registry: registry, audit: WebAudit(trail: audit.trail, node: audit.node), logger: Logger(label: "http"))
        try server.start()
        web = server
    }

    public func readiness() -> [ReadinessCheck] {
        var checks: [ReadinessCheck] = []
        do {
            try database.withConnection { _ = try $0.execute("SELECT 1") }
            checks.append(ReadinessCheck(name: "database", ready: true, detail: "reachable"))
        } catch {
            checks.append(ReadinessCheck(name: "database", ready: false, detail: "\(error)"))
        }
        checks.append(ReadinessCheck(name: "dicom_listener", ready: scpRunning,
                                     detail: scpRunning ? "\(configuration.aeTitle) on port \(configuration.port)" : "not listening"))
        checks.append(ReadinessCheck(name: "model", ready: true, detail: "\(model.name) \(model.version)"))
        let minimum = Int64(configuration.minimumFreeDiskMB) * 1_048_576
        if let free = spool.freeBytes() {
            checks.append(ReadinessCheck(name: "disk", ready: free >= minimum,
                                         detail: "\(free / 1_048_576) MB free, C-STORE refused below \(configuration.minimumFreeDiskMB) MB"))
        } else {
            checks.append(ReadinessCheck(name: "disk", ready: false, detail: "free space of \(spool.root) unknown"))
        }
        return checks
    }

    public func refreshGauges() {
        if let free = spool.freeBytes() { NodeMetrics.gauge("lstv_spool_free_bytes", Double(free)) }
        NodeMetrics.gauge("lstv_associations_active", Double(activeAssociations))
        do {
            let (series, outbox) = try pipeline.stateCounts()
            for state in SeriesState.allCases { NodeMetrics.gauge("lstv_series", Double(series[state.rawValue] ?? 0), [("state", state.rawValue)]) }
            for state in OutboxState.allCases { NodeMetrics.gauge("lstv_outbox", Double(outbox[state.rawValue] ?? 0), [("state", state.rawValue)]) }
        } catch {
            NodeMetrics.databaseError(component: "metrics")
            logger.error("cannot read the counts for /metrics", metadata: ["error": "\(error)"])
        }
    }
}

/// STOW-RS uploads into the node's ingest: the same checks and the same durable commit as C-STORE.
struct UploadIntake: InstanceReceiver {
    let ingest: Ingest
    let spool: Spool

    var refusesForLackOfDisk: Bool { ingest.diskTooFull }
    func temporaryPath() -> String { spool.temporaryPath() }

    func receive(temporaryPath path: String, uploader: String) -> UploadOutcome {
        let (status, header, reason) = ingest.commit(path, expected: nil, callingAETitle: nil, log: ["stow_token": "\(uploader)"])
        return UploadOutcome(status: status.rawValue, sopClassUID: header?.sopClassUID, sopInstanceUID: header?.sopInstanceUID,
                             studyInstanceUID: header?.studyInstanceUID, seriesInstanceUID: header?.seriesInstanceUID, reason: reason,
                             patientID: header?.descriptors.patientID, accessionNumber: header?.descriptors.accessionNumber)
    }

    func uploadFinished(_ outcomes: [UploadOutcome], uploader: String) {
        var tally = StudyTally()
        for o in outcomes where o.stored {
            guard let study = o.studyInstanceUID, let sopClass = o.sopClassUID else { continue }
            tally.add(study: study, patientID: o.patientID, accessionNumber: o.accessionNumber, sopClass: sopClass)
        }
        ingest.audit.received(tally, from: ActiveParticipant(userID: uploader, isRequestor: true, roles: [.source]))
    }
}

/// Whether the node counts for Prometheus: with the web face off there is no `/metrics` and no
/// backend (swift-metrics' no-op one counts nothing).
enum WebMetrics {
    case off
    case served(PrometheusCollectorRegistry)
}

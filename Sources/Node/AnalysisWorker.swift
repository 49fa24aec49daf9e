import Analysis
import DICOM
import Engine
import Foundation
import Logging
import Records
import Store

/// Runs analysis jobs on a bounded pool of threads, never on the listener's: claim a pending job
/// (FOR UPDATE SKIP LOCKED), analyse the series, write the SR and key image durably, then record
/// the result, the objects and their deliveries in one transaction. A crash anywhere leaves the
/// job pending or running under a claim owner that is gone, which any node takes back
/// (`Pipeline.releaseAbandoned`) and runs again; the objects' UIDs are derived from the job, so a
/// re-run reproduces the same instances.
public final class AnalysisWorker: @unchecked Sendable {
    let pipeline: Pipeline
    let index: InstanceIndex
    let model: LocalizerModel
    /// The thoracolumbar locator's model (nil: off); each thread makes its own session of it.
    let locatorModel: LocalizerModel?
    let configuration: NodeConfiguration
    /// Picks the stack of an enhanced instance to analyse: the one the series was routed by.
    let router: Router
    var builder: ResultBuilder
    let logger: Logger
    /// Called after a job finished (the outbox sender is nudged).
    var onFinished: () -> Void = {}
    private let wake = NSCondition()
    private var woken = false
    private var stopping = false
    private var running = 0

    init(pipeline: Pipeline, index: InstanceIndex, model: LocalizerModel, locatorModel: LocalizerModel?,
         configuration: NodeConfiguration, router: Router, builder: ResultBuilder, logger: Logger) {
        self.pipeline = pipeline
        self.index = index
        self.model = model
        self.locatorModel = locatorModel
        self.configuration = configuration
        self.router = router
        self.builder = builder
        self.logger = logger
    }

    public func start(owner: ClaimOwner) throws {
        let threads = configuration.threadsPerAnalysis
        logger.info("analysis: \(configuration.analysisWorkers) worker(s) of \(threads) thread(s) each",
                    metadata: ["analysis_threads": "\(configuration.analysisThreads)",
                               "cores": "\(ProcessInfo.processInfo.activeProcessorCount)"])
        for i in 0..<configuration.analysisWorkers {
            // Each thread owns its analyzer: a session's planned memory is not shared.
            let analyzer = try Analyzer(model: model, threads: threads,
                                        neighbours: configuration.neighbourSlices,
                                        perturbations: configuration.ladderPerturbations, riskThresholds: configuration.riskThresholds,
                                        locator: try locatorModel.map { try ThoracolumbarLocator(model: $0, threads: threads) })
            analyzer.stackChoice = router.stackChoice
            let t = Thread { [self] in loop(analyzer, owner) }
            t.name = "analysis-\(i)"
            wake.lock(); running += 1; wake.unlock()
            t.start()
        }
    }

    public func nudge() {
        wake.lock(); woken = true; wake.broadcast(); wake.unlock()
    }

    /// Lets the job in progress finish, then stops the threads.
    public func stop(timeout: TimeInterval) {
        wake.lock()
        stopping = true
        wake.broadcast()
        let deadline = Date().addingTimeInterval(timeout)
        while running > 0 && Date() < deadline { _ = wake.wait(until: deadline) }
        wake.unlock()
    }

    private func loop(_ analyzer: Analyzer, _ owner: ClaimOwner) {
        defer { wake.lock(); running -= 1; wake.broadcast(); wake.unlock() }
        while true {
            wake.lock()
            if stopping { wake.unlock(); return }
            wake.unlock()
            var job: AnalysisJob?
            do { job = try pipeline.claimAnalysis(now: Date(), modelSHA256: model.sha256, owner: owner.id) } catch {
                logger.error("cannot claim analysis jobs; will retry", metadata: ["error": "\(error)"])
                NodeMetrics.databaseError(component: "analysis")
            }
            guard let job else {
                wake.lock()
                if !woken && !stopping { _ = wake.wait(until: Date().addingTimeInterval(1)) }
                woken = false
                wake.unlock()
                continue
            }
            run(job, analyzer)
        }
    }

    func run(_ job: AnalysisJob, _ analyzer: Analyzer) {
        let meta: Logger.Metadata = ["analysis_id": "\(job.id)", "series_instance_uid": "\(job.seriesInstanceUID)",
                                     "revision": "\(job.seriesRevision)"]
        let started = Date()
        // Which process runs which job, when several share the database (the claim owner).
        logger.info("analysis started", metadata: meta.merging(["claim_owner": "\(job.claimant)", "attempt": "\(job.attempts)"]) { $1 })
        do {
            guard let series = try index.series(uid: job.seriesInstanceUID) else { throw AnalysisFailure("series no longer indexed") }
            let instances = try index.instanceReferences(seriesInstanceUID: job.seriesInstanceUID)
            guard !instances.isEmpty else { throw AnalysisFailure("series has no instances on disk") }
            let output = try analyzer.run(files: instances.map { SliceFile(path: $0.path, sopInstanceUID: $0.sopInstanceUID) })
            for e in output.result.excludedInstances ?? [] {
                logger.warning("instance excluded from the analysis", metadata: meta.merging([
                    "sop_instance_uid": "\(e.instance)", "reason": "\(e.reason)"]) { $1 })
            }
            let predecessor = try pipeline.latestReport(seriesInstanceUID: series.seriesInstanceUID, excludingAnalysis: job.id)
                .map { ReferencedInstance(sopClassUID: $0.sopClassUID, sopInstanceUID: $0.sopInstanceUID,
                                          seriesInstanceUID: $0.seriesInstanceUID, studyInstanceUID: series.studyInstanceUID) }
            let objects = try builder.build(job: job, series: series, instances: instances, output: output, model: model,
                                            predecessor: predecessor)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let json = String(decoding: try encoder.encode(output.result), as: UTF8.self)
            try pipeline.finish(job: job, resultJSON: json, flags: AnalysisFlags(output.result), results: objects,
                                destinations: destinations(for: series), now: Date())
            logger.info("series analysed", metadata: meta.merging([
                "risk": "\(output.result.risk.rawValue)", "ladder": "\(output.result.ladder.status.rawValue)",
                "lstv_suspicion": "\(String(format: "%.3f", output.result.lstvSuspicion))",
                "lumbar_count": "\(output.result.suspicion.lumbarCount.value.map(String.init) ?? "undetermined")",
                "junction": "\(output.result.suspicion.junction.state.rawValue)",
                "reasons": "\(output.result.suspicion.reasons.count)",
                "slices": "\(output.result.slice.count)", "excluded": "\(output.result.excludedInstances?.count ?? 0)",
                "l5_s1_entropy": "\(String(format: "%.4f", output.result.riskEntropy))",
                "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(started)))"]) { $1 })
            NodeMetrics.analysis(model: job.model.name, outcome: .done, seconds: Date().timeIntervalSince(started),
                                 risk: output.result.risk.rawValue)
            onFinished()
        } catch let lost as ClaimLost {
            logger.warning("analysis not recorded", metadata: meta.merging(["reason": "\(lost)"]) { $1 })
        } catch {
            logger.error("analysis failed", metadata: meta.merging(["error": "\(error)"]) { $1 })
            NodeMetrics.analysis(model: job.model.name, outcome: .failed, seconds: Date().timeIntervalSince(started), risk: nil)
            do { try pipeline.fail(job: job, error: "\(error)", now: Date()) } catch let lost as ClaimLost {
                logger.warning("failed analysis not recorded", metadata: meta.merging(["reason": "\(lost)"]) { $1 })
            } catch {
                logger.error("cannot record the failed analysis", metadata: meta.merging(["error": "\(error)"]) { $1 })
                NodeMetrics.databaseError(component: "analysis")
            }
        }
    }

    /// The sender (calling AE looked up in `peers`) and the fixed destinations.
    func destinations(for series: SeriesRecord) -> [DicomPeer] {
        var out: [DicomPeer] = []
        if configuration.results.sendToSender, let ae = series.callingAETitle {
            if let p = configuration.peers.first(where: { $0.aeTitle == ae }) {
                out.append(p)
            } else {
                logger.warning("sender not in peers; results not sent back to it",
                               metadata: ["calling_ae": "\(ae)", "series_instance_uid": "\(series.seriesInstanceUID)"])
            }
        }
        for d in configuration.results.destinations where !out.contains(d) { out.append(d) }
        return out
    }
}

struct AnalysisFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

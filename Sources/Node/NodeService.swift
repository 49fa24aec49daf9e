import Analysis
import DICOM
import Engine
import Foundation
import Logging
import Metrics
import Prometheus
import Records
import Store
import Web

/// The running node: owns the threads and the order in which they start and stop.
///
///     start: load model → migrate → claim owner → reconcile spool → release abandoned claims → indexer
///            → analysis workers → outbox sender → listener → assembler/retention loop → READY=1
///     stop (SIGTERM): STOPPING=1 → listener stops accepting and finishes associations in flight
///                     → indexer drains → spool marker removed → analysis in progress finishes
///                     → sender stops → exit 0
public final class NodeService: @unchecked Sendable {
    public let configuration: NodeConfiguration
    let logger: Logger
    let database: Database
    let index: InstanceIndex
    let spool: Spool
    let indexer: Indexer
    let assembler: SeriesAssembler
    /// The routing rules, compiled once: they route complete series and pick the stack of an
    /// enhanced instance for routing and analysis alike.
    let router: Router
    let sweeper: RetentionSweeper
    let pipeline: Pipeline
    let model: LocalizerModel
    let worker: AnalysisWorker
    let sender: OutboxSender
    let audit: NodeAudit
    let configurationFile: String?
    /// C-STORE's delegate, and where STOW-RS uploads go too.
    let ingest: Ingest
    let notifier = SystemdNotifier()
    private var reconciler: SpoolReconciler {
        SpoolReconciler(spool: spool, index: index, router: router, logger: Logger(label: "reconcile"))
    }
    private var scp: StoreSCP?
    var web: WebServer?
    private let stopRequested = NSCondition()
    private var stopping = false
    private var lastLoopBeat = Date()
    /// Kept for the life of the service: a signal source that is released stops delivering.
    private var signalSources: [DispatchSourceSignal] = []
    private let beatLock = NSLock()

    /// `configurationFile`: where the configuration was read from (for the audit trail).
    public init(configuration: NodeConfiguration, configurationFile: String? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        self.configurationFile = configurationFile
        logger = Logger(label: "node")
        database = Database(url: configuration.effectiveDatabaseURL)
        index = InstanceIndex(database: database)
        let spoolLogger = Logger(label: "spool")
        spool = try Spool(root: configuration.spoolDirectory) { failure in
            spoolLogger.error("spool journal stopped; instances now take the direct path (fsync of each file and directory), what it holds is replayed at the next start",
                              metadata: ["error": "\(failure)"])
        }
        indexer = Indexer(index: index, logger: Logger(label: "indexer"))
        router = try configuration.routing.compiled()
        assembler = SeriesAssembler(index: index, indexer: indexer, router: router,
                                    quietSeconds: configuration.quietSeconds, logger: Logger(label: "assembler"))

        pipeline = Pipeline(database: database)
        // No model, no node: a node that stores studies but silently never flags them is worse
        // than one that refuses to start.
        let modelURL = try ModelLocator.resolve(explicit: nil, configuration: configuration)
        do { model = try LocalizerModel(contentsOf: modelURL) } catch {
            throw ConfigurationError("cannot load the localizer model \(modelURL.path): \(error)")
        }
        let locatorModel = try ModelLocator.loadLocatorModel(configuration.thoracolumbarLocator)
        worker = AnalysisWorker(pipeline: pipeline, index: index, model: model, locatorModel: locatorModel, configuration: configuration, router: router,
                                builder: try ResultBuilder(configuration: configuration), logger: Logger(label: "analysis"))
        audit = try NodeAudit(configuration: configuration, logger: Logger(label: "audit"))
        sweeper = RetentionSweeper(index: index, spool: spool, configuration: configuration, audit: audit,
                                   logger: Logger(label: "retention"))
        sender = OutboxSender(pipeline: pipeline, results: configuration.results,
                              callingAETitle: configuration.results.callingAETitle ?? configuration.aeTitle,
                              knownPeers: configuration.knownPeers, audit: audit, logger: Logger(label: "outbox"))
        assembler.model = ModelIdentity(model)
        assembler.onComplete = { [worker] s in if s.route == .localizer { worker.nudge() } }
        worker.onFinished = { [sender] in sender.nudge() }
        ingest = Ingest(configuration: configuration, router: router, spool: spool, indexer: indexer, audit: audit,
                        logger: Logger(label: "ingest"))
        assembler.sending = { [ingest] in ingest.seriesInOpenAssociations }
    }

    /// Runs until SIGTERM/SIGINT. Returns the process exit code.
    public func run() throws -> Int32 {
        let metrics = bootstrapMetrics()
        let applied = try Migrations.apply(to: database)
        if !applied.isEmpty { logger.info("database migrated", metadata: ["versions": "\(applied)"]) }
        let owner = try ClaimOwner(database: database)
        try reconciler.reconcile()
        try releaseAbandonedClaims()
        logger.info("model loaded", metadata: ["model": "\(model.name)", "version": "\(model.version)",
                                              "sha256": "\(model.sha256)", "path": "\(model.url.path)"])
        if case let .configured(t) = configuration.riskThresholds {
            logger.info("site risk thresholds", metadata: ["high": "\(t.high)", "medium": "\(t.medium)",
                                                         "provenance": "\(configuration.riskThresholdsProvenance ?? "not given")"])
        }
        worker.builder.installation = try pipeline.installationUUID()
        indexer.start()
        try worker.start(owner: owner)
        sender.start(owner: owner)

        var scpConfiguration = StoreSCPConfiguration(
            aeTitle: configuration.aeTitle, port: UInt16(configuration.port),
            maxAssociations: configuration.maxAssociations,
            maxAssociationsPerPeer: configuration.maxAssociationsPerPeer, acseTimeoutSeconds: configuration.acseTimeoutSeconds,
            dimseTimeoutSeconds: configuration.dimseTimeoutSeconds)
        if configuration.tls.port != 0 { scpConfiguration.tls = (UInt16(configuration.tls.port), configuration.tls.settings) }
        let scp = try StoreSCP(configuration: scpConfiguration, delegate: ingest)
        self.scp = scp
        try startWeb(metrics: metrics)
        let listenerDone = DispatchSemaphore(value: 0)
        let grace = configuration.shutdownGraceSeconds
        let listener = Thread {
            scp.run(graceSeconds: grace)
            listenerDone.signal()
        }
        listener.name = "listener"
        listener.start()

        let loops = Thread { [self] in backgroundLoops(owner) }
        loops.name = "assembler"
        loops.start()

        signalSources = installSignalHandlers()
        audit.applicationActivity(.applicationStart)
        audit.configurationLoaded(configuration, file: configurationFile)
        logger.info("listening", metadata: ["ae_title": "\(configuration.aeTitle)", "port": "\(configuration.port)",
                                           "tls_port": "\(configuration.tls.port)",
                                           "spool": "\(spool.root)", "quiet_seconds": "\(configuration.quietSeconds)"])
        notifier.ready()
        startWatchdog()

        stopRequested.lock()
        while !stopping { stopRequested.wait() }
        stopRequested.unlock()

        logger.info("stopping: no new associations; finishing those in flight")
        notifier.stopping()
        scp.stop()
        listenerDone.wait()
        web?.stop()
        indexer.stop(timeout: 10)
        // With the index drained, the spool marker goes; with instances left unindexed it stays,
        // so another node sharing the spool finds this receiver gone and indexes them.
        if indexer.pendingCount == 0 { spool.stopReceiving() }
        worker.stop(timeout: 60)
        sender.stop()
        audit.applicationActivity(.applicationStop)
        logger.info("stopped")
        return 0
    }

    public func requestStop() {
        stopRequested.lock()
        stopping = true
        stopRequested.broadcast()
        stopRequested.unlock()
    }

    /// The DICOM listener is accepting (for `/readyz`).
    var scpRunning: Bool { scp != nil && !isStopping }
    var activeAssociations: Int { scp?.activeAssociations ?? 0 }

    private var isStopping: Bool {
        stopRequested.lock(); defer { stopRequested.unlock() }
        return stopping
    }

    /// Series completion every 100 ms (a partial-index query; the completion delay after the quiet
    /// period is part of the result latency budget); the retention sweep every
    /// `RetentionSweeper.interval`. Every `claimCheckSeconds`: this process's claim
    /// session is checked, work claimed by a process that is gone (another node killed) is taken
    /// back, and a receiver found gone has its acknowledged but unindexed files indexed, so a live
    /// node carries on a dead one's work without waiting for its restart.
    private func backgroundLoops(_ owner: ClaimOwner) {
        let tick = min(0.1, max(0.02, configuration.quietSeconds / 4))
        let sweepInterval = RetentionSweeper.interval(configuration)
        var lastSweep = Date.distantPast
        var lastClaimCheck = Date()
        while !isStopping {
            do {
                try assembler.tick()
                if Date().timeIntervalSince(lastSweep) > sweepInterval {
                    // Its own failure (a file that cannot be removed, the database): the series
                    // stays as it was and the next sweep tries again; assembly goes on.
                    do { try sweeper.sweep() } catch {
                        logger.error("retention sweep failed; will retry", metadata: ["error": "\(error)"])
                    }
                    lastSweep = Date()
                }
                if Date().timeIntervalSince(lastClaimCheck) > NodeService.claimCheckSeconds {
                    if let renewed = try owner.renew() {
                        logger.warning("claim session renewed; work claimed before is taken back",
                                       metadata: ["previous_owner": "\(renewed.previous)", "owner": "\(owner.id)",
                                                  "reason": "\(renewed.reason)"])
                    }
                    try releaseAbandonedClaims()
                    try reconciler.reconcileIfAWriterIsGone()
                    lastClaimCheck = Date()
                }
                beatLock.lock(); lastLoopBeat = Date(); beatLock.unlock()
            } catch {
                logger.error("series assembly failed; will retry", metadata: ["error": "\(error)"])
            }
            Thread.sleep(forTimeInterval: tick)
        }
    }

    /// How often claims of gone processes are looked for: the delay before a live node resumes a
    /// killed node's work (a restart resumes it at once).
    static let claimCheckSeconds: TimeInterval = 2

    /// Analyses and deliveries left `running`/`sending` by a process that is gone are pending again.
    private func releaseAbandonedClaims() throws {
        let released = try pipeline.releaseAbandoned()
        if released.analyses + released.deliveries > 0 {
            logger.info("resuming interrupted work", metadata: ["analyses": "\(released.analyses)",
                                                                "deliveries": "\(released.deliveries)"])
            worker.nudge()
            sender.nudge()
        }
    }

    /// WATCHDOG=1 only while the loops make progress, so systemd restarts a wedged node.
    private func startWatchdog() {
        guard let interval = notifier.watchdogInterval else { return }
        let t = Thread { [self] in
            while !isStopping {
                beatLock.lock(); let beat = lastLoopBeat; beatLock.unlock()
                if Date().timeIntervalSince(beat) < max(interval, 30) { notifier.watchdog() }
                Thread.sleep(forTimeInterval: interval / 2)
            }
        }
        t.name = "watchdog"
        t.start()
    }

    private func installSignalHandlers() -> [DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.requestStop() }
            source.resume()
            return source
        }
    }
}

import Analysis
import ArgumentParser
import Engine
import Foundation
import Node
import Records

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Analyse DICOM files or folders: group into series, route as the node does, run the localizer.",
        discussion: """
            Series the routing rules ignore are listed on stderr; a summary line closes the run (series analysed, \
            ignored, unreadable files, failed). Exit status 1 if any routed series failed.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    @OptionGroup var options: ConfigOptions
    @Option(help: "Model file (default: the model configured for the node, else the bundled one).") var model: String?
    @Option(help: "Output format: table, json or csv.") var format: Format = .table
    @Option(help: "Thoracolumbar locator: bundled, off, or a model file (default: thoracolumbar_locator).") var locator: String?
    @Option(help: "Write the output to this file instead of stdout.") var output: String?
    @Option(help: "Neighbouring slices on each side also analysed for the spread (default: neighbour_slices, 2).") var neighbours: Int?
    @Flag(inversion: .prefixedNo, help: "Also run the middle slice zoomed and moved; a disc that jumps makes the ladder inconsistent (default: ladder_stability, on).")
    var ladderStability: Bool?
    @Option(help: """
        Series analysed at once, each with its own analyzer of analysis_threads threads (default: one per \
        core, or per analysis_threads cores when that is a number; never more than the series; auto threads \
        divide the cores among these default jobs). The output is the same for any value.
        """)
    var jobs: Int?
    @Flag(help: "Print where the analysis' time went on stderr (one JSON line: seconds per stage, per series).")
    var profile = false
    @Argument(help: "DICOM files or folders.") var paths: [String]

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        let config = try options.load()
        let modelURL = try ModelLocator.resolve(explicit: model, configuration: config)
        let localizer: LocalizerModel
        do { localizer = try LocalizerModel(contentsOf: modelURL) } catch {
            // Not a usage error: exit 1 with the loader's message (it names the tensor at fault).
            throw ConfigurationError("cannot load model \(modelURL.path): \(error)")
        }
        // Loaded once; each analyzer makes its own locator session from it.
        let locatorModel = try ModelLocator.loadLocatorModel(locator.map(LocatorSetting.init(word:)) ?? config.thoracolumbarLocator)
        let scanStart = DispatchTime.now().uptimeNanoseconds
        let router = try config.routing.compiled()
        let (series, unreadable) = try SeriesScanner(router: router).scan(paths)
        let scanSeconds = Double(DispatchTime.now().uptimeNanoseconds - scanStart) / 1e9
        for u in unreadable { warn("not DICOM or unreadable, skipped: \(u.path) (\(u.reason))") }
        let routed = series.filter { $0.route == .localizer }
        for s in series where s.route != .localizer {
            warn("series \(s.seriesInstanceUID) (\(s.descriptors.seriesDescription ?? "no description")) not analysed: \(s.reason)")
        }
        if routed.isEmpty { warn("no series matched the routing rules for the localizer") }

        // One analyzer per job: an engine session is not thread-safe.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // By default one job per core (with a number of threads, per that many cores), never more
        // than the series. `auto` threads divide the cores among those default jobs, whatever
        // --jobs says: the engine's sums depend on its thread count in the last bits, and the
        // output must not depend on --jobs.
        let defaultJobs: Int
        switch config.analysisThreads {
        case .auto: defaultJobs = max(1, min(cores, routed.count))
        case let .fixed(n): defaultJobs = max(1, min(cores / n, routed.count))
        }
        let jobCount = max(1, min(jobs ?? defaultJobs, routed.count))
        let threads = config.analysisThreads.resolved(concurrent: defaultJobs, cores: cores)
        let analyzers = try (0..<jobCount).map { _ in
            let analyzer = try Analyzer(model: localizer, threads: threads, neighbours: neighbours ?? config.neighbourSlices,
                                        perturbations: (ladderStability ?? config.ladderStability) ? SlicePerturbation.standard : [],
                                        riskThresholds: config.riskThresholds,
                                        locator: try locatorModel.map { try ThoracolumbarLocator(model: $0, threads: threads) })
            analyzer.stackChoice = router.stackChoice
            return analyzer
        }
        let identity = ModelIdentity(localizer)
        let progress = ProgressLine(total: routed.count)
        let reports = OrderedParallelMap.map(routed, workers: analyzers, body: { analyzer, s in
            func report(_ result: AnalysisResult?, _ error: String?) -> SeriesAnalysisReport {
                SeriesAnalysisReport(studyInstanceUID: s.studyInstanceUID, seriesInstanceUID: s.seriesInstanceUID,
                                     descriptors: s.descriptors, instances: s.paths.count, model: identity, result: result, error: error)
            }
            do { return report(try analyzer.analyse(paths: s.paths), nil) } catch { return report(nil, "\(error)") }
        }, finished: { _, report, done in
            if let error = report.error { progress.note("lstv-node analyze: series \(report.seriesInstanceUID) failed: \(error)") }
            progress.update(done)
        })
        progress.finish()
        if profile { try printProfile(analyzers, scanSeconds: scanSeconds, jobs: jobCount, threads: threads) }

        let text: String
        switch format {
        case .json: text = try SeriesAnalysisReport.json(reports)
        case .csv: text = ([SeriesAnalysisReport.csvHeader] + reports.compactMap(\.csvRow)).joined(separator: "\n")
        case .table: text = SeriesAnalysisReport.table(reports)
        }
        try emit(text, to: output)
        let failed = reports.filter { $0.result == nil }.count
        warn("summary: " + BatchSummary(analysed: reports.count - failed, ignored: series.count - routed.count,
                                        unreadableFiles: unreadable.count, failed: failed).line)
        if failed > 0 { throw ExitCode.failure }
    }

    /// `--profile`: the scan and each stage's seconds summed over the jobs, and each series' seconds
    /// (read to result; the jobs' lists one after the other).
    func printProfile(_ analyzers: [Analyzer], scanSeconds: Double, jobs: Int, threads: Int) throws {
        let times = analyzers.map(\.stageTimes).reduce(StageTimes(), +)
        var stages: [(String, Double)] = [("scan", scanSeconds)]
        stages += AnalysisStage.allCases.map { ($0.rawValue, times.seconds[$0] ?? 0) }
        // Key order kept by hand: JSONSerialization would sort or shuffle the stages.
        let stageText = stages.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ")
        let seriesText = times.seriesSeconds.map { "\($0)" }.joined(separator: ", ")
        warn("profile: {\"jobs\": \(jobs), \"threads\": \(threads), \"stages\": {\(stageText)}, \"series_seconds\": [\(seriesText)]}")
    }

    func warn(_ message: String) { FileHandle.standardError.write("lstv-node analyze: \(message)\n".data(using: .utf8)!) }
}

/// The command's output: to `path` (replaced whole) or to stdout.
func emit(_ text: String, to path: String?) throws {
    if let path {
        try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    } else {
        print(text)
    }
}

/// The batch's progress line on stderr (`BatchProgress`), redrawn in place as series finish; only
/// on a terminal and only for several series. Messages during the batch go through `note` so they
/// do not end up glued to the bar.
final class ProgressLine: @unchecked Sendable {
    private let visible: Bool
    private let start = ContinuousClock.now
    private var progress: BatchProgress
    private let lock = NSLock()

    init(total: Int) {
        progress = BatchProgress(total: total)
        visible = total > 1 && isatty(STDERR_FILENO) == 1
        draw()
    }

    func update(_ done: Int) {
        lock.lock(); defer { lock.unlock() }
        let e = ContinuousClock.now - start
        progress.done = done
        progress.elapsed = Double(e.components.seconds) + Double(e.components.attoseconds) / 1e18
        draw()
    }

    /// A message on its own line; the bar is drawn again below it.
    func note(_ message: String) {
        lock.lock(); defer { lock.unlock() }
        write(visible ? "\r\u{1B}[K\(message)\n" : "\(message)\n")
        draw()
    }

    func finish() {
        guard visible else { return }
        lock.lock(); defer { lock.unlock() }
        write("\n")
    }

    private func draw() {
        guard visible else { return }
        write("\r\u{1B}[K" + progress.line())
    }

    private func write(_ text: String) { FileHandle.standardError.write(text.data(using: .utf8)!) }
}

import Analysis
import ArgumentParser
import Engine
import Foundation
import Node
import Records

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Analyse DICOM files or folders: group into series, route as the node does, run the localizer.",
        discussion: "Series the routing rules ignore are listed on stderr. Exit status 1 if any routed series failed.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    @OptionGroup var options: ConfigOptions
    @Option(help: "Model file (default: the model configured for the node, else the bundled one).") var model: String?
    @Option(help: "Output format: table, json or csv.") var format: Format = .table
    @Option(help: "Thoracolumbar locator: bundled, off, or a model file (default: thoracolumbar_locator).") var locator: String?
    @Option(help: "Write the output to this file instead of stdout.") var output: String?
    @Option(help: "Neighbouring slices on each side also analysed for the spread (default: neighbour_slices, 2).") var neighbours: Int?
    @Flag(inversion: .prefixedNo, help: "Also run the middle slice zoomed and moved; a disc that jumps makes the ladder inconsistent (default: ladder_stability, on).")
    var ladderStability: Bool?
    @Argument(help: "DICOM files or folders.") var paths: [String]

    func run() throws {
        let config = try options.load()
        let modelURL = try ModelLocator.resolve(explicit: model, configuration: config)
        let localizer: LocalizerModel
        do { localizer = try LocalizerModel(contentsOf: modelURL) } catch {
            // Not a usage error: exit 1 with the loader's message (it names the tensor at fault).
            throw ConfigurationError("cannot load model \(modelURL.path): \(error)")
        }
        let analyzer = try Analyzer(model: localizer, threads: config.analysisThreads, neighbours: neighbours ?? config.neighbourSlices,
                                    perturbations: (ladderStability ?? config.ladderStability) ? SlicePerturbation.standard : [],
                                    riskThresholds: config.riskThresholds,
                                    locator: try ModelLocator.makeLocator(word: locator, configuration: config))
        let (series, unreadable) = try SeriesScanner(router: config.routing.compiled()).scan(paths)
        for u in unreadable { warn("not DICOM or unreadable, skipped: \(u.path) (\(u.reason))") }
        let routed = series.filter { $0.route == .localizer }
        for s in series where s.route != .localizer {
            warn("series \(s.seriesInstanceUID) (\(s.descriptors.seriesDescription ?? "no description")) not analysed: \(s.reason)")
        }
        if routed.isEmpty { warn("no series matched the routing rules for the localizer") }

        let progress = Progress(total: routed.count)
        var reports: [SeriesAnalysisReport] = []
        for (i, s) in routed.enumerated() {
            progress.update(i)
            let identity = ModelIdentity(localizer)
            do {
                let result = try analyzer.analyse(paths: s.paths)
                reports.append(SeriesAnalysisReport(studyInstanceUID: s.studyInstanceUID, seriesInstanceUID: s.seriesInstanceUID,
                                                    descriptors: s.descriptors, instances: s.paths.count,
                                                    model: identity, result: result, error: nil))
            } catch {
                reports.append(SeriesAnalysisReport(studyInstanceUID: s.studyInstanceUID, seriesInstanceUID: s.seriesInstanceUID,
                                                    descriptors: s.descriptors, instances: s.paths.count,
                                                    model: identity, result: nil, error: "\(error)"))
                warn("series \(s.seriesInstanceUID) failed: \(error)")
            }
        }
        progress.finish()

        let text: String
        switch format {
        case .json: text = try SeriesAnalysisReport.json(reports)
        case .csv: text = ([SeriesAnalysisReport.csvHeader] + reports.compactMap(\.csvRow)).joined(separator: "\n")
        case .table: text = SeriesAnalysisReport.table(reports)
        }
        if let output {
            try (text + "\n").write(toFile: output, atomically: true, encoding: .utf8)
        } else {
            print(text)
        }
        if reports.contains(where: { $0.result == nil }) { throw ExitCode.failure }
    }

    func warn(_ message: String) { FileHandle.standardError.write("lstv-node analyze: \(message)\n".data(using: .utf8)!) }
}

/// A one-line progress bar on stderr, only on a terminal and only for several series.
struct Progress {
    let total: Int
    let visible: Bool
    init(total: Int) {
        self.total = total
        visible = total > 1 && isatty(STDERR_FILENO) == 1
    }
    func update(_ done: Int) {
        guard visible else { return }
        let width = 30, filled = total == 0 ? width : done * width / total
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        FileHandle.standardError.write("\r[\(bar)] \(done)/\(total) series".data(using: .utf8)!)
    }
    func finish() {
        guard visible else { return }
        update(total)
        FileHandle.standardError.write("\n".data(using: .utf8)!)
    }
}

import ArgumentParser
import Cohort
import CohortReport
import Foundation

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the cohort report: one self-contained HTML page (charts, top candidates, ROC/PR against labels).",
        discussion: """
            The cohort comes from analyze output (--results, JSON or CSV) or from the node's database (--from-db: \
            each series' latest analysis, with key-image thumbnails). --labels FILE.csv: a key column \
            (series_instance_uid, study_instance_uid or accession_number), lstv (0/1) and optionally castellvi.
            """)

    @OptionGroup var options: ConfigOptions
    @OptionGroup var input: CohortInput
    @Option(help: "Reference labels (CSV) for ROC and precision-recall curves.") var labels: String?
    @Option(help: "The HTML file to write.") var output: String

    func run() throws {
        let (cases, failed, source) = try input.load(try options.load())
        let report = CohortReport(cases: cases, failed: failed, source: source, labels: try labels.map(Labels.init(file:)))
        let (html, warnings) = try report.render()
        for w in warnings { FileHandle.standardError.write("lstv-node report: \(w)\n".data(using: .utf8)!) }
        try html.write(toFile: output, atomically: true, encoding: .utf8)
        print("wrote \(output): \(cases.count) series")
    }
}

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
    @Option(help: "analyze output (--format json or csv) to report on.") var results: String?
    @Flag(help: "Report on the node's database (the lstv_flags view) instead of a results file.") var fromDB = false
    @Option(help: "With --from-db: only analyses finished at or after this time (ISO 8601).") var since: String?
    @Option(help: "Reference labels (CSV) for ROC and precision-recall curves.") var labels: String?
    @Option(help: "The HTML file to write.") var output: String

    func validate() throws {
        guard (results == nil) != !fromDB else { throw ValidationError("give exactly one of --results FILE and --from-db") }
        if since != nil, !fromDB { throw ValidationError("--since applies to --from-db only") }
    }

    func run() throws {
        let cases: [CohortCase], failed: Int, source: String
        if let results {
            (cases, failed) = try CohortSource.load(file: results)
            source = results
        } else {
            let config = try options.load()
            cases = try CohortSource.load(databaseURL: config.effectiveDatabaseURL, since: try parseSince(since))
            failed = 0
            source = "database \(config.redactedDatabaseURL)" + (since.map { " since \($0)" } ?? "")
        }
        let report = CohortReport(cases: cases, failed: failed, source: source, labels: try labels.map(Labels.init(file:)))
        let (html, warnings) = try report.render()
        for w in warnings { FileHandle.standardError.write("lstv-node report: \(w)\n".data(using: .utf8)!) }
        try html.write(toFile: output, atomically: true, encoding: .utf8)
        print("wrote \(output): \(cases.count) series")
    }
}

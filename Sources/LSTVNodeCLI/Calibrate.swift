import ArgumentParser
import Cohort
import Engine
import Foundation
import Node

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set the risk thresholds from a site's labelled cases (ROC, cross-validated threshold choice).",
        discussion: """
            Joins --labels (CSV: series_instance_uid, study_instance_uid or accession_number; lstv 0/1; optional \
            castellvi) to analysed series from --results (analyze JSON or CSV) or --from-db, refuses cases the model \
            was trained on, prints ROC/PR AUC with bootstrap intervals and a cross-validated threshold table, and \
            writes a calibration file for --config or `include:`.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @OptionGroup var options: ConfigOptions
    @Option(help: "Labels CSV.") var labels: String
    @OptionGroup var input: CohortInput
    @Option(help: "Model file whose training subjects are refused (default: the configured model, else the bundled one).") var model: String?
    @Flag(help: "Keep cases the model was trained on (their figures are optimistic).") var allowTrainingCases = false
    @Option(help: "Threshold choice: max_f1, or sens_target (highest PPV reaching --sens-target).") var strategy: String = Calibration.Strategy.maxF1.rawValue
    @Option(help: "Mean sensitivity the sens_target strategy must reach.") var sensTarget: Double = 0.9
    @Option(help: "Cross-validation folds.") var folds: Int = 5
    @Option(help: "Seed of the folds and the bootstrap.") var seed: UInt64 = Calibration.Options().seed
    @Option(help: "Bootstrap resamples for the intervals.") var bootstrap: Int = 2000
    @Option(help: "Write the calibration file here.") var output: String = "calibration.yaml"
    @Option(help: "Output format on stdout: table or json.") var format: Format = .table

    func validate() throws {
        guard Calibration.Strategy(rawValue: strategy) != nil else {
            throw ValidationError("--strategy must be \(Calibration.Strategy.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        guard (2...20).contains(folds) else { throw ValidationError("--folds must be 2…20") }
        guard sensTarget > 0, sensTarget <= 1 else { throw ValidationError("--sens-target must be in (0, 1]") }
        guard bootstrap >= 100 else { throw ValidationError("--bootstrap must be at least 100") }
    }

    func run() throws {
        let config = try options.load()
        let (cases, failed, source) = try input.load(config)
        if failed > 0 { warn("\(failed) failed series in \(source) left out") }
        let join = try Labels(file: labels).join(cases)
        if !join.unmatchedLabels.isEmpty {
            warn("\(join.unmatchedLabels.count) label(s) match no analysed series: " + join.unmatchedLabels.prefix(5).joined(separator: ", ")
                 + (join.unmatchedLabels.count > 5 ? ", …" : ""))
        }
        if join.unlabelledCases > 0 { warn("\(join.unlabelledCases) analysed series have no label and are left out") }

        // The thresholds belong to the model that produced the suspicion: one model, and not its training cases.
        let modelURL = try ModelLocator.resolve(explicit: model, configuration: config)
        let file = try SafeTensorsFile(url: modelURL)
        let fileSHA256 = try LocalizerModel.sha256(ofFileAt: modelURL)
        let shas = Set(join.cases.compactMap { $0.0.model?.sha256 }.filter { !$0.isEmpty })
        guard shas.count <= 1 else { throw CohortError("the cases come from \(shas.count) different models: calibrate one model at a time") }
        if let sha = shas.first, sha != fileSHA256 {
            throw CohortError("the results are from model sha256 \(sha), not \(modelURL.path) (sha256 \(fileSHA256)): pass that model with --model")
        }
        let training = try TrainingSubjects(metadata: file.metadata)
        let trained = join.cases.filter { training.contains(patientID: $0.0.patientID) }
        let unchecked = join.cases.filter { ($0.0.patientID ?? "").isEmpty }.count
        if unchecked > 0 && !training.hashes.isEmpty {
            warn("\(unchecked) case(s) carry no patient ID (CSV results): not checked against the model's training subjects")
        }
        if !trained.isEmpty {
            guard allowTrainingCases else {
                throw CohortError("\(trained.count) case(s) are of subjects the model was trained on (e.g. series \(trained[0].0.seriesInstanceUID)): "
                                  + "thresholds must be set on cases it never saw; remove them, or pass --allow-training-cases")
            }
            warn("\(trained.count) training case(s) kept (--allow-training-cases): the figures are optimistic")
        }

        var o = Calibration.Options()
        o.strategy = Calibration.Strategy(rawValue: strategy)!
        o.sensitivityTarget = sensTarget
        o.folds = folds
        o.seed = seed
        o.bootstrapReplicates = bootstrap
        let calibration = try Calibration(cases: join.cases, options: o)
        let now = Date()
        try calibration.configurationFile(modelSHA256: fileSHA256, date: now).write(toFile: output, atomically: true, encoding: .utf8)
        switch format {
        case .table: print(calibration.text() + "\nwrote \(output)")
        case .json:
            print(try calibration.json(modelSHA256: fileSHA256, date: now, extra: [
                "calibration_file": output, "unmatched_labels": join.unmatchedLabels, "unlabelled_cases": join.unlabelledCases,
                "training_cases": trained.count, "model_sha256": fileSHA256,
            ]))
        }
    }

    func warn(_ message: String) { FileHandle.standardError.write("lstv-node calibrate: \(message)\n".data(using: .utf8)!) }
}

import Analysis
import DICOM
import Engine
import Foundation
import Store

/// Turns one finished analysis into DICOM objects on disk: the TID 1500 structured report, the key
/// image and the Key Object Selection that marks it and the analysed slice, in the analysed study,
/// each in a new series. Files are written to a temporary name,
/// fsync'd and renamed, so a recorded result always has its file. UIDs derive from the job.
struct ResultBuilder {
    let configuration: NodeConfiguration
    let directory: String
    /// Makes derived UIDs unique to this installation (see `Pipeline.installationUUID`).
    var installation = ""

    init(configuration: NodeConfiguration) throws {
        self.configuration = configuration
        directory = (configuration.dataDirectory as NSString).appendingPathComponent("results")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// `predecessor`: the report this one revises (the series' previous SR), if any.
    func build(job: AnalysisJob, series: SeriesRecord, instances: [InstanceReference], output: Analyzer.Output,
               model: LocalizerModel, predecessor: ReferencedInstance?) throws -> [ResultRecord] {
        let result = output.result
        let excluded = Set((result.excludedInstances ?? []).map(\.instance))
        let evidence = instances.filter { !excluded.contains($0.sopInstanceUID) }.map {
            ReferencedInstance(sopClassUID: $0.sopClassUID, sopInstanceUID: $0.sopInstanceUID,
                               seriesInstanceUID: $0.seriesInstanceUID, studyInstanceUID: $0.studyInstanceUID)
        }
        guard let middleInstance = instances.first(where: { $0.sopInstanceUID == result.slice.sopInstanceUID }) else {
            throw AnalysisFailure("the analysed middle slice is not among the series' instances")
        }
        let middlePath = middleInstance.path
        let middle = ReferencedInstance(sopClassUID: middleInstance.sopClassUID, sopInstanceUID: middleInstance.sopInstanceUID,
                                        seriesInstanceUID: middleInstance.seriesInstanceUID,
                                        studyInstanceUID: middleInstance.studyInstanceUID, frameNumber: result.slice.frameNumber)
        let jobDir = "\(directory)/\(job.id)"
        try FileManager.default.createDirectory(atPath: jobDir, withIntermediateDirectories: true)
        var records: [ResultRecord] = []

        // Structured report.
        let srDocument = configuration.results.srDocument
        let srUID = UIDGenerator.uid(for: "\(installation) analysis \(job.id) sr")
        let srSeriesUID = UIDGenerator.uid(for: "\(installation) analysis \(job.id) sr series")
        let levels = LevelName.allCases.map { level -> LevelMeasurement in
            let m = result.levels[level]!
            return LevelMeasurement(
                trackingIdentifier: level.displayName,
                trackingUID: UIDGenerator.uid(for: "\(installation) analysis \(job.id) level \(level.rawValue)"),
                findingSite: Codes.disc(forLevel: level.displayName)!,
                peakConfidence: m.peakConfidence, entropy: m.entropy, spatialEntropy: m.spatialEntropy,
                point: m.pointPx.map { (row: $0.row, column: $0.column) })
        }
        let report = MeasurementReport(
            sourceInstancePath: middlePath, evidence: evidence, middleSlice: middle, middleSlicePath: middlePath,
            instance: Self.createdInstance(study: series.studyInstanceUID, series: srSeriesUID, sop: srUID,
                                           number: configuration.results.srSeriesNumber,
                                           description: configuration.results.srSeriesDescription),
            deviceObserverUID: UIDGenerator.uid(for: "\(installation) device \(configuration.aeTitle)"),
            deviceObserverName: configuration.aeTitle, algorithmName: model.name, algorithmVersion: model.version,
            algorithmParameters: ["model sha256 \(model.sha256)",
                                  "risk thresholds high>\(result.riskThresholds.high) medium>=\(result.riskThresholds.medium)"
                                    + " on lstv_suspicion (\(result.suspicion.scale.rawValue), from the \(result.riskThresholdOrigin.rawValue))"
                                    + (result.riskThresholdOrigin == .configuration
                                        ? configuration.riskThresholdsProvenance.map { "; calibration: \($0)" } ?? "" : ""),
                                  "input \(model.inputHeight)x\(model.inputWidth), middle slice \(result.slice.index + 1) of \(result.slice.count)"],
            levels: levels, lstvSuspicion: result.risk.rawValue, ladderConsistency: result.ladder.status.rawValue,
            ladderFindings: result.ladder.reasons, suspicionFindings: Self.suspicionFindings(result),
            exclusionFindings: (result.excludedInstances ?? []).map { "\($0.instance): \($0.reason)" },
            assessment: SeriesAssessment(trackingIdentifier: "LSTV assessment",
                                         trackingUID: UIDGenerator.uid(for: "\(installation) analysis \(job.id) assessment"),
                                         measurements: Self.assessmentMeasurements(result)),
            predecessor: predecessor, documentClass: srDocument)
        let srPath = "\(jobDir)/sr.dcm"
        try Spool.writeDurably(srPath) { try StructuredReportWriter.write(report, to: $0) }
        records.append(ResultRecord(kind: .sr, sopClassUID: srDocument.sopClassUID, sopInstanceUID: srUID,
                                    seriesInstanceUID: srSeriesUID, path: srPath, predecessorSOPInstanceUID: predecessor?.sopInstanceUID))

        // Key image.
        if configuration.results.keyImage {
            let points = LevelName.allCases.map { level -> (label: String, row: Double, column: Double)? in
                result.levels[level]!.pointPx.map { (label: level.displayName, row: $0.row, column: $0.column) }
            }
            let rendered = KeyImageRenderer.render(KeyImageInput(
                grey: output.middleSlice8Bit, rows: result.slice.rows, columns: result.slice.columns,
                heatmaps: output.heatmaps, gridRows: output.gridRows, gridColumns: output.gridColumns, points: points,
                riskText: Self.keyImageRiskLine(result), detailText: Self.keyImageDetailLine(result),
                footerText: "\(model.name) \(model.version)  LADDER: \(result.ladder.status.rawValue.uppercased())"))
            let kiUID = UIDGenerator.uid(for: "\(installation) analysis \(job.id) key image")
            let kiSeriesUID = UIDGenerator.uid(for: "\(installation) analysis \(job.id) key image series")
            let image = KeyImage(
                sourceInstancePath: middlePath, rgb: rendered.rgb, rows: rendered.rows, columns: rendered.columns,
                instance: Self.createdInstance(study: series.studyInstanceUID, series: kiSeriesUID, sop: kiUID,
                                               number: configuration.results.keyImageSeriesNumber,
                                               description: configuration.results.keyImageSeriesDescription),
                derivedFrom: middle, derivationDescription: "Localizer heatmaps of \(model.name) \(model.version) over the middle slice; NOT FOR DIAGNOSTIC USE")
            let kiPath = "\(jobDir)/key_image.dcm"
            try Spool.writeDurably(kiPath) { try SecondaryCaptureWriter.write(image, to: $0) }
            records.append(ResultRecord(kind: .keyImage, sopClassUID: SOPClass.secondaryCaptureImageStorage, sopInstanceUID: kiUID,
                                        seriesInstanceUID: kiSeriesUID, path: kiPath, predecessorSOPInstanceUID: nil))
        }

        // Key Object Selection: the analysed slice and the key image, for viewers that do not read SRs.
        if configuration.results.keyObjectSelection {
            let keyImages = records.filter { $0.kind == .keyImage }.map {
                ReferencedInstance(sopClassUID: $0.sopClassUID, sopInstanceUID: $0.sopInstanceUID,
                                   seriesInstanceUID: $0.seriesInstanceUID, studyInstanceUID: series.studyInstanceUID)
            }
            let kosUID = UIDGenerator.uid(for: "\(installation) analysis \(job.id) key objects")
            let kosSeriesUID = UIDGenerator.uid(for: "\(installation) analysis \(job.id) key objects series")
            let document = KeyObjectSelection(
                sourceInstancePath: middlePath,
                instance: Self.createdInstance(study: series.studyInstanceUID, series: kosSeriesUID, sop: kosUID,
                                               number: configuration.results.keyObjectSelectionSeriesNumber,
                                               description: configuration.results.keyObjectSelectionSeriesDescription),
                description: Self.keyObjectDescription(result, model: model), references: [middle] + keyImages)
            let kosPath = "\(jobDir)/key_objects.dcm"
            try Spool.writeDurably(kosPath) { try KeyObjectSelectionWriter.write(document, to: $0) }
            records.append(ResultRecord(kind: .keyObjectSelection, sopClassUID: SOPClass.keyObjectSelectionDocumentStorage,
                                        sopInstanceUID: kosUID, seriesInstanceUID: kosSeriesUID, path: kosPath,
                                        predecessorSOPInstanceUID: nil))
        }
        return records
    }

    /// A new object in the analysed study, made by this node (General Equipment: lstv-node, its version).
    static func createdInstance(study: String, series: String, sop: String, number: Int, description: String) -> CreatedInstance {
        CreatedInstance(studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop, seriesNumber: number,
                        seriesDescription: description, manufacturer: NodeVersion.manufacturer, modelName: NodeVersion.manufacturer,
                        softwareVersion: NodeVersion.software)
    }

    /// The series-level NUMs of the SR: the suspicion on its scale, the lumbar count and its
    /// probability when determined, the lumbosacral span.
    static func assessmentMeasurements(_ r: AnalysisResult) -> [AssessmentMeasurement] {
        var out = [AssessmentMeasurement(concept: Codes.lstvSuspicionScore,
                                         unit: r.suspicion.scale == .normalDeviation ? Codes.normalDeviations : Codes.nat,
                                         value: r.lstvSuspicion)]
        if let n = r.suspicion.lumbarCount.value {
            out.append(AssessmentMeasurement(concept: Codes.lumbarVertebraCount, unit: Codes.vertebrae, value: Double(n)))
        }
        if let p = r.suspicion.lumbarCount.probability {
            out.append(AssessmentMeasurement(concept: Codes.lumbarCountProbability, unit: Codes.noUnits, value: p))
        }
        if let span = r.suspicion.junction.span {
            out.append(AssessmentMeasurement(concept: Codes.lumbosacralSpanRatio, unit: Codes.noUnits, value: span))
        }
        return out
    }

    /// The SR's TEXT evaluations of the suspicion: its reasons, and an undetermined count's cause.
    static func suspicionFindings(_ r: AnalysisResult) -> [String] {
        var out = r.suspicion.reasons
        if let why = r.suspicion.lumbarCount.undeterminedBecause { out.append("Lumbar count undetermined: \(why).") }
        return out
    }

    /// The Key Object Description: what was selected and the result in one line (no patient data).
    static func keyObjectDescription(_ r: AnalysisResult, model: LocalizerModel) -> String {
        "Analysed middle slice (\(r.slice.index + 1) of \(r.slice.count)) and key image of \(model.name) \(model.version): "
            + keyImageRiskLine(r) + "; " + keyImageDetailLine(r) + ". Not for diagnostic use; see the structured report."
    }

    /// The key image's risk line: the risk and the suspicion on its scale.
    static func keyImageRiskLine(_ r: AnalysisResult) -> String {
        let value = r.suspicion.scale == .normalDeviation ? String(format: "SCORE %.1f SD", r.lstvSuspicion)
                                                          : String(format: "L5/S1 ENTROPY %.2f", r.lstvSuspicion)
        return "LSTV SUSPICION: \(r.risk.rawValue.uppercased()) (\(value))"
    }

    /// The key image's second line: the lumbar count (and its probability) and the junction.
    static func keyImageDetailLine(_ r: AnalysisResult) -> String {
        let c = r.suspicion.lumbarCount
        let count = c.value.map { n in "\(n) LUMBAR" + (c.probability.map { String(format: " (P %.2f)", $0) } ?? "") } ?? "LUMBAR COUNT UNDETERMINED"
        return "\(count), JUNCTION \(r.suspicion.junction.state.rawValue.uppercased())"
    }
}

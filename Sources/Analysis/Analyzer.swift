import Engine
import Foundation

/// One series → one `AnalysisResult`: the reference pipeline (whole-volume 8-bit min-max, cv2
/// bilinear resize of the middle slice, x/scale, (x − mean)/std, repeated to the model's channels),
/// the network, the per-level metrics, the risk and the ladder check.
///
/// An Analyzer owns an engine session (planned memory): use one per thread.
public final class Analyzer {
    public let model: LocalizerModel
    public var riskThresholds: RiskThresholds
    public var ladderThresholds: LadderThresholds
    private let session: Session
    private let normalization: InputNormalization

    public init(model: LocalizerModel, threads: Int = 1, riskThresholds: RiskThresholds = .default,
                ladderThresholds: LadderThresholds = .default) throws {
        self.model = model
        self.riskThresholds = riskThresholds
        self.ladderThresholds = ladderThresholds
        session = try model.makeSession(batch: 1, threads: threads)
        let n = model.normalization
        normalization = InputNormalization(scale: n.scale, mean: n.mean, std: n.std)
    }

    public func analyse(_ stack: SliceStack) throws -> AnalysisResult {
        let rows = model.inputHeight, columns = model.inputWidth
        let slice = Preprocess.middleSlice(of: stack, rows: rows, columns: columns)
        let input = try Preprocess.networkInput(slice, normalization: normalization, channels: model.metadata.input.channels)
        let probabilities = try session.run(input: input)
        let metrics = try Metrics.levels(probabilities: probabilities, classes: model.classes, rows: rows, columns: columns)
        return try AnalysisResult.assemble(metrics: metrics, gridRows: rows, gridColumns: columns, stack: stack,
                                           riskThresholds: riskThresholds, ladderThresholds: ladderThresholds)
    }

    /// Reads the files of one series and analyses it.
    public func analyse(paths: [String]) throws -> AnalysisResult {
        try analyse(SliceStack(try DicomSlices.load(paths: paths)))
    }
}

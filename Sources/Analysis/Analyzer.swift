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

    /// What a report needs besides the numbers: the picture the network saw and its heatmaps.
    public struct Output {
        public let result: AnalysisResult
        public let stack: SliceStack
        /// The middle slice at its original size, min-max scaled to 8 bits with the whole volume.
        public let middleSlice8Bit: [UInt8]
        /// One probability map per disc level (L1/L2 … L5/S1), gridRows × gridColumns.
        public let heatmaps: [[Float]]
        public let gridRows: Int
        public let gridColumns: Int
    }

    public func analyse(_ stack: SliceStack) throws -> AnalysisResult { try run(stack).result }

    public func run(_ stack: SliceStack) throws -> Output {
        let rows = model.inputHeight, columns = model.inputWidth
        let slice = Preprocess.middleSlice(of: stack, rows: rows, columns: columns)
        let input = try Preprocess.networkInput(slice, normalization: normalization, channels: model.metadata.input.channels)
        let probabilities = try session.run(input: input)
        let metrics = try Metrics.levels(probabilities: probabilities, classes: model.classes, rows: rows, columns: columns)
        let result = try AnalysisResult.assemble(metrics: metrics, gridRows: rows, gridColumns: columns, stack: stack,
                                                 riskThresholds: riskThresholds, ladderThresholds: ladderThresholds)
        let plane = rows * columns
        let heatmaps = LevelName.allCases.map { level -> [Float] in
            guard let c = model.classes.firstIndex(of: level.displayName) else { return [] }
            return Array(probabilities[(c * plane)..<((c + 1) * plane)])
        }
        let original = Preprocess.scaleTo8Bit(stack.middle.pixels, range: IntensityRange(of: stack))
        return Output(result: result, stack: stack, middleSlice8Bit: original, heatmaps: heatmaps,
                      gridRows: rows, gridColumns: columns)
    }

    /// Reads the files of one series and analyses it.
    public func analyse(paths: [String]) throws -> AnalysisResult { try run(paths: paths).result }

    public func run(paths: [String]) throws -> Output {
        try run(SliceStack(try DicomSlices.load(paths: paths)))
    }
}

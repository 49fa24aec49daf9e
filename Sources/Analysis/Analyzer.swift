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
    /// Slices on each side of the middle one also analysed (0: the reference's single slice).
    public let neighbours: Int
    /// The middle slice is also run under these perturbations for the ladder's stability check
    /// (`LadderStability`; empty: off).
    public let perturbations: [SlicePerturbation]
    private let session: Session
    private let normalization: InputNormalization

    public init(model: LocalizerModel, threads: Int = 1, neighbours: Int = 0,
                perturbations: [SlicePerturbation] = [], riskThresholds: RiskThresholds = .default,
                ladderThresholds: LadderThresholds = .default) throws {
        self.model = model
        self.riskThresholds = riskThresholds
        self.ladderThresholds = ladderThresholds
        self.neighbours = max(0, neighbours)
        self.perturbations = perturbations
        // One batch holds the middle slice, its neighbours and its perturbed copies: one pass.
        session = try model.makeSession(batch: 1 + 2 * self.neighbours + perturbations.count, threads: threads)
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
        let range = IntensityRange(of: stack)
        // The middle slice first (the reference metrics), then its neighbours inside the stack.
        let mid = stack.middleIndex
        var indices = [mid]
        if neighbours > 0 {
            for d in 1...neighbours { indices += [mid - d, mid + d].filter { $0 >= 0 && $0 < stack.count } }
        }
        var input: [Float] = []
        var middle8Bit: [UInt8] = []  // at the original size: the key image shows what the network saw
        var middleGrid: [UInt8] = []  // at the network's size: what the perturbations start from
        for i in indices {
            let s = stack.slices[i]
            let original = Preprocess.scaleTo8Bit(s.pixels, range: range)
            let u8 = resizeBilinearLikeOpenCV(original, srcRows: s.rows, srcCols: s.columns, dstRows: rows, dstCols: columns)
            if i == mid { middle8Bit = original; middleGrid = u8 }
            input += try Preprocess.networkInput(u8, normalization: normalization, channels: model.metadata.input.channels)
        }
        for p in perturbations {
            input += try Preprocess.networkInput(p.apply(middleGrid, rows: rows, columns: columns),
                                                 normalization: normalization, channels: model.metadata.input.channels)
        }
        let all = try session.run(input: input)
        let perImage = model.classes.count * rows * columns
        let probabilities = Array(all[0..<perImage])
        let metrics = try Metrics.levels(probabilities: probabilities, classes: model.classes, rows: rows, columns: columns)
        let landmarks = try Metrics.landmarkPoints(probabilities: probabilities, classes: model.classes, rows: rows, columns: columns)
        var result = try AnalysisResult.assemble(metrics: metrics, landmarks: landmarks, gridRows: rows, gridColumns: columns, stack: stack,
                                                 riskThresholds: riskThresholds, ladderThresholds: ladderThresholds)
        if indices.count > 1 {
            result.neighbourSpread = try spread(indices: indices, probabilities: all, perImage: perImage, stack: stack)
        }
        if !perturbations.isEmpty {
            var perturbed: [(SlicePerturbation, [LevelName: PixelPoint])] = []
            for (j, p) in perturbations.enumerated() {
                let k = indices.count + j
                let m = try Metrics.levels(probabilities: Array(all[(k * perImage)..<((k + 1) * perImage)]),
                                           classes: model.classes, rows: rows, columns: columns)
                perturbed.append((p, m.compactMapValues(\.point)))
            }
            result.ladder = result.ladder.adding(violations: LadderStability.violations(
                base: metrics.compactMapValues(\.point), perturbed: perturbed, rows: rows, columns: columns))
        }
        let plane = rows * columns
        let heatmaps = LevelName.allCases.map { level -> [Float] in
            guard let c = model.classes.firstIndex(of: level.displayName) else { return [] }
            return Array(probabilities[(c * plane)..<((c + 1) * plane)])
        }
        return Output(result: result, stack: stack, middleSlice8Bit: middle8Bit, heatmaps: heatmaps,
                      gridRows: rows, gridColumns: columns)
    }

    private func spread(indices: [Int], probabilities: [Float], perImage: Int, stack: SliceStack) throws -> NeighbourSpread {
        let rows = model.inputHeight, columns = model.inputWidth
        var metrics: [[LevelName: LevelMetrics]] = []
        var px: [[LevelName: PixelPoint]] = []
        var mm: [[LevelName: SIMD3<Double>]] = []
        let geometryEverywhere = indices.allSatisfy { stack.slices[$0].geometry != nil }
        for (k, i) in indices.enumerated() {
            let m = try Metrics.levels(probabilities: Array(probabilities[(k * perImage)..<((k + 1) * perImage)]),
                                       classes: model.classes, rows: rows, columns: columns)
            metrics.append(m)
            let s = stack.slices[i]
            var p: [LevelName: PixelPoint] = [:], q: [LevelName: SIMD3<Double>] = [:]
            for (level, lm) in m {
                guard let g = lm.point else { continue }
                let o = Geometry.toOriginal(g, gridRows: rows, gridColumns: columns, rows: s.rows, columns: s.columns)
                p[level] = o
                if let geo = s.geometry { q[level] = geo.patientPosition(of: o) }
            }
            px.append(p)
            mm.append(q)
        }
        return NeighbourSpread.summarise(sliceIndices: indices, metrics: metrics, pointsPx: px, pointsMm: geometryEverywhere ? mm : nil)
    }

    /// Reads the files of one series and analyses it.
    public func analyse(paths: [String]) throws -> AnalysisResult { try run(paths: paths).result }

    public func run(paths: [String]) throws -> Output {
        try run(SliceStack(try DicomSlices.load(paths: paths)))
    }
}

import Engine
import Foundation

/// One series → one `AnalysisResult`: the reference pipeline (whole-volume 8-bit min-max, cv2
/// bilinear resize of the middle slice, x/scale, (x − mean)/std, repeated to the model's channels),
/// the network, the per-level metrics, the risk and the ladder check.
///
/// An Analyzer owns an engine session (planned memory): use one per thread.
public final class Analyzer {
    public let model: LocalizerModel
    public var riskThresholds: RiskThresholdSource
    public var ladderThresholds: LadderThresholds
    /// The model file's normal ranges and thresholds for the suspicion (nil: the reference scale).
    public let calibration: SuspicionCalibration?
    /// The count's second anchor (nil: the count rests on the localizer's own maps).
    public let locator: ThoracolumbarLocator?
    /// Slices on each side of the middle one also analysed (0: the reference's single slice).
    public let neighbours: Int
    /// The middle slice is also run under these perturbations for the ladder's stability check
    /// (`LadderStability`; empty: off).
    public let perturbations: [SlicePerturbation]
    /// Which stack of an enhanced instance is analysed: the node and `lstv-node analyze` give the
    /// routing rules' choice, the one the series was routed by.
    public var stackChoice: StackChoice = EnhancedFrames.largestStack
    private let session: Session
    /// The session's batch is capped here: the cost per image hardly changes with the batch
    /// (BENCHMARKS.md, "How analyze's cost grows"), while the planned memory grows by every image's
    /// activations (5–7 MiB each on the full-size reference network). With the default 11 images in
    /// one pass `analyze` peaked at 2.27x that network's weights, at 8 at 2.14x, at 4 at 1.98x.
    public static let maxImagesPerPass = 4
    private let normalization: InputNormalization
    /// Where this analyzer's time went, over every series it ran (`StageTimes`).
    public private(set) var stageTimes = StageTimes()

    public init(model: LocalizerModel, threads: Int = 1, neighbours: Int = 0,
                perturbations: [SlicePerturbation] = [], riskThresholds: RiskThresholdSource = .model,
                ladderThresholds: LadderThresholds = .default, locator: ThoracolumbarLocator? = nil) throws {
        self.model = model
        self.locator = locator
        calibration = try SuspicionCalibration.from(metadata: model.metadata.raw)
        self.riskThresholds = riskThresholds
        self.ladderThresholds = ladderThresholds
        self.neighbours = max(0, neighbours)
        self.perturbations = perturbations
        // The middle slice, its neighbours and its perturbed copies go through the network together,
        // at most `maxImagesPerPass` at a time.
        session = try model.makeSession(batch: min(Analyzer.maxImagesPerPass, 1 + 2 * self.neighbours + perturbations.count),
                                        threads: threads)
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
        var t = StageTimes()
        defer { stageTimes = stageTimes + t }
        let rows = model.inputHeight, columns = model.inputWidth
        let range = t.time(.range) { IntensityRange(of: stack) }
        // The middle slice first (the reference metrics), then its neighbours inside the stack, then
        // the middle slice's perturbed copies.
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
            let original = t.time(.scale) { Preprocess.scaleTo8Bit(s.pixels, range: range) }
            let u8 = t.time(.resize) { resizeBilinearLikeOpenCV(original, srcRows: s.rows, srcCols: s.columns, dstRows: rows, dstCols: columns) }
            if i == mid { middle8Bit = original; middleGrid = u8 }
            input += try t.time(.input) { try networkInput(u8) }
        }
        input += try t.time(.input) { try perturbedInputs(of: middleGrid) }
        let pass = try t.time(.network) { try Pass(all: session.run(passes: input), analyzer: self) }
        let (discs, landmarks, sites) = try t.time(.metrics) {
            (try (0..<(indices.count + perturbations.count)).map { try pass.discs(image: $0) },
             try pass.landmarks(image: 0), try pass.sites(image: 0))
        }
        let evidence = try t.time(.evidence) { try pass.evidence(image: 0, discs: discs[0], landmarks: landmarks, grid: middleGrid) }
        return try t.time(.assemble) {
            var result = try AnalysisResult.assemble(metrics: discs[0], landmarks: landmarks, sites: sites,
                                                     gridRows: rows, gridColumns: columns, stack: stack,
                                                     ladderThresholds: ladderThresholds)
            if indices.count > 1 {
                result.neighbourSpread = spread(indices: indices, metrics: Array(discs[..<indices.count]), stack: stack)
            }
            result.ladder = result.ladder.adding(violations: stabilityViolations(middle: discs[0], perturbed: discs[indices.count...]))
            result.decide(evidence: evidence, calibration: calibration, thresholds: riskThresholds)
            let middle = pass.image(0), plane = rows * columns
            let heatmaps = LevelName.allCases.map { level -> [Float] in
                guard let c = model.classes.firstIndex(of: level.displayName) else { return [] }
                return Array(middle[(c * plane)..<((c + 1) * plane)])
            }
            return Output(result: result, stack: stack, middleSlice8Bit: middle8Bit, heatmaps: heatmaps,
                          gridRows: rows, gridColumns: columns)
        }
    }

    /// What the network gave for one slice already prepared at its size (8-bit, as `lstv-node
    /// evaluate` measures the model card): the probabilities, and the ladder flag on the grid (no
    /// patient geometry) with the same stability passes a series' middle slice gets.
    public struct GridOutput {
        /// Channel-major [classes][rows*columns].
        public let probabilities: ArraySlice<Float>
        public let ladder: LadderCheck
        /// The suspicion as a series with this slice in the middle would get it.
        public let suspicion: SuspicionReport
        public let risk: Risk
    }

    public func run(grid: [UInt8]) throws -> GridOutput {
        let pass = try Pass(all: session.run(passes: networkInput(grid) + perturbedInputs(of: grid)), analyzer: self)
        let discs = try (0...perturbations.count).map { try pass.discs(image: $0) }
        let landmarks = try pass.landmarks(image: 0)
        let ladder = LevelLadder.check(discs[0].compactMapValues { $0.point.map { LadderPoint(grid: $0) } },
                                       landmarks: landmarks.mapValues { LadderPoint(grid: $0) },
                                       sites: try pass.sites(image: 0).mapValues { $0.map { LadderPoint(grid: $0) } },
                                       thresholds: ladderThresholds)
        let finalLadder = ladder.adding(violations: stabilityViolations(middle: discs[0], perturbed: discs[1...]))
        let suspicion = Suspicion.score(try pass.evidence(image: 0, discs: discs[0], landmarks: landmarks, grid: grid), ladder: finalLadder,
                                        l5s1Entropy: discs[0][.l5_s1]!.entropy, calibration: calibration)
        let thresholds: RiskThresholds
        switch riskThresholds {
        case let .configured(t): thresholds = t
        case .model: thresholds = calibration?.thresholds ?? .default
        }
        return GridOutput(probabilities: pass.image(0), ladder: finalLadder, suspicion: suspicion,
                          risk: thresholds.classify(suspicion.value))
    }

    // MARK: one batch through the network

    private func networkInput(_ grid: [UInt8]) throws -> [Float] {
        try Preprocess.networkInput(grid, normalization: normalization, channels: model.metadata.input.channels)
    }

    /// The network inputs of the middle slice's perturbed copies, in `perturbations` order.
    private func perturbedInputs(of grid: [UInt8]) throws -> [Float] {
        try perturbations.flatMap { try networkInput($0.apply(grid, rows: model.inputHeight, columns: model.inputWidth)) }
    }

    /// A batch output, read image by image in place.
    private struct Pass {
        let all: [Float]
        let analyzer: Analyzer
        var perImage: Int { analyzer.model.classes.count * analyzer.model.inputHeight * analyzer.model.inputWidth }

        func image(_ k: Int) -> ArraySlice<Float> { all[(k * perImage)..<((k + 1) * perImage)] }

        func discs(image k: Int) throws -> [LevelName: LevelMetrics] {
            try Metrics.levels(probabilities: image(k), classes: analyzer.model.classes,
                               rows: analyzer.model.inputHeight, columns: analyzer.model.inputWidth,
                               threads: analyzer.session.threads)
        }

        func sites(image k: Int) throws -> [LevelName: [PixelPoint]] {
            try Metrics.discSites(probabilities: image(k), classes: analyzer.model.classes,
                                  rows: analyzer.model.inputHeight, columns: analyzer.model.inputWidth,
                                  threads: analyzer.session.threads)
        }

        /// The suspicion evidence of image `k`, whose 8-bit input was `grid`, from the disc metrics and
        /// landmark points already decoded from it (not decoded again).
        func evidence(image k: Int, discs: [LevelName: LevelMetrics], landmarks: [LadderRung: PixelPoint],
                      grid: [UInt8]) throws -> SuspicionEvidence {
            var points = landmarks
            for (level, m) in discs { if let p = m.point { points[LadderRung(level)] = p } }
            return try SuspicionEvidence.measure(probabilities: image(k), classes: analyzer.model.classes,
                                                 rows: analyzer.model.inputHeight, columns: analyzer.model.inputWidth,
                                                 points: points, grid: grid, locator: analyzer.locator)
        }

        func landmarks(image k: Int) throws -> [LadderRung: PixelPoint] {
            try Metrics.landmarkPoints(probabilities: image(k), classes: analyzer.model.classes,
                                       rows: analyzer.model.inputHeight, columns: analyzer.model.inputWidth)
        }
    }

    /// `LadderStability` over the perturbed passes (their disc metrics in `perturbations` order).
    private func stabilityViolations(middle: [LevelName: LevelMetrics], perturbed: ArraySlice<[LevelName: LevelMetrics]>) -> [String] {
        LadderStability.violations(base: middle.compactMapValues(\.point),
                                   perturbed: zip(perturbations, perturbed).map { ($0, $1.compactMapValues(\.point)) },
                                   rows: model.inputHeight, columns: model.inputWidth)
    }

    private func spread(indices: [Int], metrics: [[LevelName: LevelMetrics]], stack: SliceStack) -> NeighbourSpread {
        let rows = model.inputHeight, columns = model.inputWidth
        var px: [[LevelName: PixelPoint]] = []
        var mm: [[LevelName: SIMD3<Double>]] = []
        let geometryEverywhere = indices.allSatisfy { stack.slices[$0].geometry != nil }
        for (i, m) in zip(indices, metrics) {
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

    /// Reads the files of one series and analyses its usable slices (`SeriesSlices`).
    public func analyse(paths: [String]) throws -> AnalysisResult { try run(paths: paths).result }

    public func run(paths: [String]) throws -> Output {
        try run(files: paths.map { SliceFile(path: $0) })
    }

    public func run(files: [SliceFile]) throws -> Output {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { stageTimes.addSeries(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        var t = StageTimes()
        let series = try t.time(.read) { try SeriesSlices.load(files, stackChoice: stackChoice) }
        stageTimes = stageTimes + t
        return try run(series)
    }

    /// Analyses the usable slices; the result names the instances left out.
    public func run(_ series: SeriesSlices) throws -> Output {
        let output = try run(series.stack)
        guard !series.excluded.isEmpty else { return output }
        var result = output.result
        result.excludedInstances = series.excluded
        return Output(result: result, stack: output.stack, middleSlice8Bit: output.middleSlice8Bit, heatmaps: output.heatmaps,
                      gridRows: output.gridRows, gridColumns: output.gridColumns)
    }
}

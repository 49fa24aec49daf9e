// What one series' analysis reports: per-level metrics on the original image, the entropy risk, and
// the ladder check as its own flag. Field names are the CLI/report JSON's (snake_case).

/// One level in the result. `pointPx` is on the ORIGINAL pixel grid of the middle slice ([row, col]),
/// `pointMm` in patient LPS mm ([x, y, z]); both null when the level has no pixel above 0.5, and
/// `pointMm` also when the slice lacks geometry.
public struct LevelResult: Codable, Equatable, Sendable {
    public var peakConfidence: Double
    public var entropy: Double
    public var spatialEntropy: Double
    public var pointPx: PixelPoint?
    public var pointMm: SIMD3<Double>?

    public init(peakConfidence: Double, entropy: Double, spatialEntropy: Double,
                pointPx: PixelPoint?, pointMm: SIMD3<Double>?) {
        self.peakConfidence = peakConfidence
        self.entropy = entropy
        self.spatialEntropy = spatialEntropy
        self.pointPx = pointPx
        self.pointMm = pointMm
    }

    enum CodingKeys: String, CodingKey {
        case peakConfidence = "peak_confidence", entropy, spatialEntropy = "spatial_entropy"
        case pointPx = "point_px", pointMm = "point_mm"
    }

    // Explicit so that absent points are written as null (the synthesized encoder would omit them).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(peakConfidence, forKey: .peakConfidence)
        try c.encode(entropy, forKey: .entropy)
        try c.encode(spatialEntropy, forKey: .spatialEntropy)
        try c.encode(pointPx, forKey: .pointPx)
        try c.encode(pointMm.map { [$0.x, $0.y, $0.z] }, forKey: .pointMm)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        peakConfidence = try c.decode(Double.self, forKey: .peakConfidence)
        entropy = try c.decode(Double.self, forKey: .entropy)
        spatialEntropy = try c.decode(Double.self, forKey: .spatialEntropy)
        pointPx = try c.decodeIfPresent(PixelPoint.self, forKey: .pointPx)
        if let mm = try c.decodeIfPresent([Double].self, forKey: .pointMm) {
            guard mm.count == 3 else {
                throw DecodingError.dataCorruptedError(forKey: .pointMm, in: c, debugDescription: "point_mm needs 3 values")
            }
            pointMm = SIMD3(mm[0], mm[1], mm[2])
        } else {
            pointMm = nil
        }
    }
}

/// Which slice was analysed.
public struct AnalysedSlice: Codable, Equatable, Sendable {
    public var index: Int
    public var count: Int
    public var sopInstanceUID: String
    public var rows: Int
    public var columns: Int
    public var ordering: SliceOrdering
    /// The analysed frame (1-based) when the slice is a frame of an enhanced multi-frame image.
    public var frameNumber: Int?

    enum CodingKeys: String, CodingKey {
        case index, count, sopInstanceUID = "sop_instance_uid", rows, columns, ordering, frameNumber = "frame_number"
    }
}

/// Which thresholds decided the risk.
public enum RiskThresholdOrigin: String, Codable, Sendable {
    /// The model file's own (set on its normal validation cases).
    case model
    /// The site's configuration.
    case configuration
    /// The reference method's defaults on the L5/S1 entropy (a model without its own).
    case reference
}

public struct AnalysisResult: Codable, Equatable, Sendable {
    /// Keyed `l1_l2` … `l5_s1`.
    public var levels: [LevelName: LevelResult]
    /// Derived from `lstvSuspicion` with `riskThresholds`.
    public var risk: Risk
    /// The reference metric: the L5/S1 heatmap entropy (nats).
    public var riskEntropy: Double
    /// The thresholds on `lstvSuspicion` that gave `risk`, and where they came from.
    public var riskThresholds: RiskThresholds
    public var riskThresholdOrigin: RiskThresholdOrigin
    /// The continuous suspicion (scale in `suspicion.scale`; higher = more suspicious).
    public var lstvSuspicion: Double
    /// The count and junction evidence behind it, and why it rose.
    public var suspicion: SuspicionReport
    public var ladder: LadderCheck
    public var slice: AnalysedSlice
    /// The middle slice's neighbours analysed too (nil when disabled): spread of points and entropy.
    public var neighbourSpread: NeighbourSpread?
    /// The series' instances left out of the analysis, each with its reason (nil when none was:
    /// the JSON of a series analysed whole is unchanged).
    public var excludedInstances: [ExcludedInstance]?

    enum CodingKeys: String, CodingKey {
        case levels, risk, riskEntropy = "risk_entropy", riskThresholds = "risk_thresholds", ladder, slice
        case neighbourSpread = "neighbour_spread", riskThresholdOrigin = "risk_threshold_origin"
        case lstvSuspicion = "lstv_suspicion", suspicion, excludedInstances = "excluded_instances"
    }

    /// Decides the suspicion and the risk from the middle slice's evidence, once the ladder is final
    /// (its stability passes added).
    public mutating func decide(evidence: SuspicionEvidence, calibration: SuspicionCalibration?, thresholds: RiskThresholdSource) {
        suspicion = Suspicion.score(evidence, ladder: ladder, l5s1Entropy: riskEntropy, calibration: calibration)
        lstvSuspicion = suspicion.value
        switch thresholds {
        case let .configured(t): (riskThresholds, riskThresholdOrigin) = (t, .configuration)
        case .model: (riskThresholds, riskThresholdOrigin) = calibration.map { ($0.thresholds, .model) } ?? (.default, .reference)
        }
        risk = riskThresholds.classify(lstvSuspicion)
    }

    /// Puts the pieces together after the network ran on `stack`'s middle slice: maps the grid points
    /// to the original image and to the patient, decides the risk and checks the ladder.
    /// `metrics` must hold all five levels (as `Metrics.levels` returns them); `landmarks` are the
    /// grid points of the model's counting landmarks (`Metrics.landmarkPoints`) and `sites` the
    /// discs' separate parts (`Metrics.discSites`), for the ladder check. The risk is provisional
    /// (the reference rule) until `decide` scores the suspicion.
    public static func assemble(metrics: [LevelName: LevelMetrics], landmarks: [LadderRung: PixelPoint] = [:],
                                sites: [LevelName: [PixelPoint]] = [:],
                                gridRows: Int, gridColumns: Int,
                                stack: SliceStack,
                                ladderThresholds: LadderThresholds = .default) throws -> AnalysisResult {
        let mid = stack.middle
        let geometry = mid.geometry
        var levels: [LevelName: LevelResult] = [:]
        var ladderPoints: [LevelName: LadderPoint] = [:]
        func ladderPoint(_ g: PixelPoint) -> LadderPoint {
            let px = Geometry.toOriginal(g, gridRows: gridRows, gridColumns: gridColumns, rows: mid.rows, columns: mid.columns)
            return LadderPoint(grid: g, patient: geometry.map { $0.patientPosition(of: px) })
        }
        for level in LevelName.allCases {
            guard let m = metrics[level] else { throw MetricsError.missingClass(level.displayName) }
            let px = m.point.map {
                Geometry.toOriginal($0, gridRows: gridRows, gridColumns: gridColumns, rows: mid.rows, columns: mid.columns)
            }
            let mm = px.flatMap { p in geometry.map { $0.patientPosition(of: p) } }
            levels[level] = LevelResult(peakConfidence: m.peakConfidence, entropy: m.entropy,
                                        spatialEntropy: m.spatialEntropy, pointPx: px, pointMm: mm)
            if let g = m.point { ladderPoints[level] = LadderPoint(grid: g, patient: mm) }
        }
        let landmarkPoints = landmarks.mapValues(ladderPoint)
        let sitePoints = sites.mapValues { $0.map(ladderPoint) }
        let l5s1 = metrics[.l5_s1]!.entropy
        let ladder = LevelLadder.check(ladderPoints, landmarks: landmarkPoints, sites: sitePoints, thresholds: ladderThresholds)
        let unscored = Suspicion.score(SuspicionEvidence(), ladder: ladder, l5s1Entropy: l5s1, calibration: nil)
        return AnalysisResult(
            levels: levels,
            risk: RiskThresholds.default.classify(l5s1),
            riskEntropy: l5s1,
            riskThresholds: .default,
            riskThresholdOrigin: .reference,
            lstvSuspicion: unscored.value,
            suspicion: unscored,
            ladder: ladder,
            slice: AnalysedSlice(index: stack.middleIndex, count: stack.count, sopInstanceUID: mid.sopInstanceUID,
                                 rows: mid.rows, columns: mid.columns, ordering: stack.ordering, frameNumber: mid.frameNumber),
            neighbourSpread: nil)
    }
}

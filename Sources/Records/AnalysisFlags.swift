/// What worklists read of one finished analysis: the risk and the figures behind it, typed. The
/// node fills it from the analysis result (which knows the types); the index writes it to typed
/// columns, so the `lstv_flags` view never guesses a type from the result JSON.
public struct AnalysisFlags: Sendable, Equatable {
    /// One disc level's heatmap figures (`l1_l2_confidence`, `l1_l2_entropy`, `l1_l2_spatial_entropy`, …).
    public struct Level: Sendable, Equatable {
        public var confidence: Double
        public var entropy: Double
        public var spatialEntropy: Double
        public init(confidence: Double, entropy: Double, spatialEntropy: Double) {
            self.confidence = confidence; self.entropy = entropy; self.spatialEntropy = spatialEntropy
        }
    }

    /// `low`, `medium` or `high`.
    public var risk: String
    public var ladderStatus: String
    /// The reference method's L5/S1 heatmap entropy.
    public var riskEntropy: Double
    /// Keyed by the level's snake_case name, `l1_l2` … `l5_s1`.
    public var levels: [String: Level]
    public var lstvSuspicion: Double
    public var suspicionScale: String
    /// 4, 5 or 6 mobile lumbar vertebrae; nil when undetermined.
    public var lumbarCount: Int?
    public var lumbarCountProbability: Double?
    public var junctionState: String
    public var riskThresholdOrigin: String
    public var suspicionReasons: [String]

    public init(risk: String, ladderStatus: String, riskEntropy: Double, levels: [String: Level], lstvSuspicion: Double,
                suspicionScale: String, lumbarCount: Int?, lumbarCountProbability: Double?, junctionState: String,
                riskThresholdOrigin: String, suspicionReasons: [String]) {
        self.risk = risk; self.ladderStatus = ladderStatus; self.riskEntropy = riskEntropy; self.levels = levels
        self.lstvSuspicion = lstvSuspicion; self.suspicionScale = suspicionScale; self.lumbarCount = lumbarCount
        self.lumbarCountProbability = lumbarCountProbability; self.junctionState = junctionState
        self.riskThresholdOrigin = riskThresholdOrigin; self.suspicionReasons = suspicionReasons
    }
}

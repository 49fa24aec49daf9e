import Records

extension AnalysisFlags {
    /// The figures worklists read, typed, from the analysis result.
    public init(_ r: AnalysisResult) {
        self.init(risk: r.risk.rawValue, ladderStatus: r.ladder.status.rawValue, riskEntropy: r.riskEntropy,
                  levels: Dictionary(uniqueKeysWithValues: r.levels.map { name, level in
                      (name.rawValue, Level(confidence: level.peakConfidence, entropy: level.entropy, spatialEntropy: level.spatialEntropy))
                  }),
                  lstvSuspicion: r.lstvSuspicion, suspicionScale: r.suspicion.scale.rawValue,
                  lumbarCount: r.suspicion.lumbarCount.value, lumbarCountProbability: r.suspicion.lumbarCount.probability,
                  junctionState: r.suspicion.junction.state.rawValue, riskThresholdOrigin: r.riskThresholdOrigin.rawValue,
                  suspicionReasons: r.suspicion.reasons)
    }
}

import Analysis
import Cohort
import Foundation
import Records

/// A per-level heatmap figure of the analysis.
enum LevelMetric: CaseIterable {
    case confidence, entropy, spatialEntropy

    var title: String {
        switch self {
        case .confidence: return "peak confidence"
        case .entropy: return "entropy"
        case .spatialEntropy: return "spatial entropy"
        }
    }

    func value(_ level: AnalysisFlags.Level) -> Double {
        switch self {
        case .confidence: return level.confidence
        case .entropy: return level.entropy
        case .spatialEntropy: return level.spatialEntropy
        }
    }

    /// The metric at `level` for each case that has it.
    func values(_ cases: [CohortCase], at level: LevelName) -> [Double] {
        cases.compactMap { $0.flags.levels[level.rawValue].map(value) }
    }
}

/// Mean and sample standard deviation of the finite values.
struct MeanSD: Equatable {
    let mean: Double
    /// Nil for fewer than two values.
    let sd: Double?
    let count: Int

    init?(_ values: [Double]) {
        let v = values.filter(\.isFinite)
        guard !v.isEmpty else { return nil }
        let mean = v.reduce(0, +) / Double(v.count)
        self.mean = mean
        count = v.count
        sd = v.count < 2 ? nil : (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - 1)).squareRoot()
    }

    var text: String { String(format: "%.3f", mean) + (sd.map { String(format: " ± %.3f", $0) } ?? "") }
}

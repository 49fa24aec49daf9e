import Foundation

/// Epistemic uncertainty beyond one softmax (issue 4): the same network on the middle slice and
/// its neighbours. A model that knows the anatomy puts each level at nearly the same place, with
/// nearly the same entropy, on adjacent slices; out-of-distribution input scatters both.
public struct NeighbourSpread: Codable, Equatable, Sendable {
    public struct Level: Codable, Equatable, Sendable {
        /// Slices (of `slices`) on which the level has a point.
        public var foundIn: Int
        /// Root-mean-square distance of the level's points from their mean, in mm when the slices
        /// carry geometry, else in original pixels; nil with fewer than two points.
        public var pointSpread: Double?
        public var entropyMean: Double
        public var entropyStd: Double
        public var entropyRange: Double

        enum CodingKeys: String, CodingKey {
            case foundIn = "found_in", pointSpread = "point_spread", entropyMean = "entropy_mean"
            case entropyStd = "entropy_std", entropyRange = "entropy_range"
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(foundIn, forKey: .foundIn)
            try c.encode(pointSpread, forKey: .pointSpread)
            try c.encode(entropyMean, forKey: .entropyMean)
            try c.encode(entropyStd, forKey: .entropyStd)
            try c.encode(entropyRange, forKey: .entropyRange)
        }
    }

    /// Stack indices of the slices used (the middle one included).
    public var sliceIndices: [Int]
    /// "mm" or "px": the unit of `point_spread`.
    public var unit: String
    public var levels: [LevelName: Level]

    enum CodingKeys: String, CodingKey { case sliceIndices = "slice_indices", unit, levels }

    /// Summarises per-slice metrics. `pointsPx` are on each slice's original grid; `pointsMm`, in
    /// patient coordinates, is nil when the slices lack geometry (then the spread is in pixels).
    public static func summarise(sliceIndices: [Int], metrics: [[LevelName: LevelMetrics]],
                                 pointsPx: [[LevelName: PixelPoint]], pointsMm: [[LevelName: SIMD3<Double>]]?) -> NeighbourSpread {
        let useMm = pointsMm != nil
        var levels: [LevelName: Level] = [:]
        for level in LevelName.allCases {
            let entropies = metrics.compactMap { $0[level]?.entropy }
            let mean = entropies.reduce(0, +) / Double(max(1, entropies.count))
            let variance = entropies.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, entropies.count))
            var vectors: [SIMD3<Double>] = []
            if useMm {
                vectors = pointsMm!.compactMap { $0[level] }
            } else {
                vectors = pointsPx.compactMap { $0[level] }.map { SIMD3($0.row, $0.column, 0) }
            }
            var spread: Double?
            if vectors.count >= 2 {
                let centre = vectors.reduce(SIMD3<Double>(repeating: 0), +) / Double(vectors.count)
                let ms = vectors.map { v -> Double in let d = v - centre; return (d * d).sum() }.reduce(0, +) / Double(vectors.count)
                spread = ms.squareRoot()
            }
            levels[level] = Level(foundIn: pointsPx.filter { $0[level] != nil }.count, pointSpread: spread,
                                  entropyMean: mean, entropyStd: variance.squareRoot(),
                                  entropyRange: (entropies.max() ?? 0) - (entropies.min() ?? 0))
        }
        return NeighbourSpread(sliceIndices: sliceIndices, unit: useMm ? "mm" : "px", levels: levels)
    }
}

// Issue 4: the five disc points must form a plausible ladder. A network that is sure of each level
// can still put two levels on one disc or swap them; the entropy risk would not see that, so the
// ladder outcome is reported as its own flag next to the risk.
import Foundation

public enum LadderStatus: String, Codable, Sendable {
    /// All five points present, ordered, plausibly spaced, on distinct discs.
    case consistent
    /// At least one definite violation among the points present.
    case inconsistent
    /// Some level has no point and nothing present contradicts the ladder.
    case incomplete
}

/// The space the check measured in: patient mm when every present point has patient coordinates,
/// else pixels of the network grid.
public enum LadderSpace: String, Codable, Sendable {
    case mm
    case px
}

public struct LadderCheck: Codable, Equatable, Sendable {
    public var status: LadderStatus
    public var reasons: [String]
    public var space: LadderSpace
}

/// Tunable plausibility bounds. Adult lumbar disc-to-disc distance is ~30–45 mm and a disc is
/// ~8–12 mm thick, so two points < 10 mm apart lie on one disc; neighbour spacings vary with the
/// vertebra but not by 2x from the series' own median.
public struct LadderThresholds: Codable, Equatable, Sendable {
    public var minSpacingRatio: Double
    public var maxSpacingRatio: Double
    public var minSeparationMm: Double
    /// Used when there are no patient coordinates: pixels of the 160 grid (~1.4 mm each for a
    /// typical 220 mm sagittal field of view, so 7 px ≈ 10 mm).
    public var minSeparationPx: Double

    public static let `default` = LadderThresholds()

    public init(minSpacingRatio: Double = 0.5, maxSpacingRatio: Double = 1.8,
                minSeparationMm: Double = 10, minSeparationPx: Double = 7) {
        self.minSpacingRatio = minSpacingRatio
        self.maxSpacingRatio = maxSpacingRatio
        self.minSeparationMm = minSeparationMm
        self.minSeparationPx = minSeparationPx
    }

    enum CodingKeys: String, CodingKey {
        case minSpacingRatio = "min_spacing_ratio", maxSpacingRatio = "max_spacing_ratio"
        case minSeparationMm = "min_separation_mm", minSeparationPx = "min_separation_px"
    }
}

/// One level's point: on the network grid, and in patient LPS mm when the geometry is known.
public struct LadderPoint: Equatable, Sendable {
    public var grid: PixelPoint
    public var patient: SIMD3<Double>?
    public init(grid: PixelPoint, patient: SIMD3<Double>? = nil) {
        self.grid = grid
        self.patient = patient
    }
}

public enum LevelLadder {
    /// Superior → inferior: in patient space z (LPS: +z is head) must strictly decrease from L1/L2 to
    /// L5/S1, which holds whatever the display orientation of the image; on the grid (no geometry)
    /// the row must strictly increase, i.e. the image is assumed head-up, as sagittal series are
    /// stored. Distances are Euclidean (3-D in mm, 2-D in grid px).
    public static func check(_ points: [LevelName: LadderPoint],
                             thresholds: LadderThresholds = .default) -> LadderCheck {
        let present = LevelName.allCases.filter { points[$0] != nil }
        let usePatient = !present.isEmpty && present.allSatisfy { points[$0]!.patient != nil }
        let space: LadderSpace = usePatient ? .mm : .px
        let unit = usePatient ? "mm" : "px"
        func coords(_ l: LevelName) -> [Double] {
            let p = points[l]!
            if usePatient, let m = p.patient { return [m.x, m.y, m.z] }
            return [p.grid.row, p.grid.column]
        }
        /// Larger = more inferior.
        func depth(_ l: LevelName) -> Double { usePatient ? -points[l]!.patient!.z : points[l]!.grid.row }
        func dist(_ a: LevelName, _ b: LevelName) -> Double {
            sqrt(zip(coords(a), coords(b)).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) })
        }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        var violations: [String] = []
        // Order, over consecutive present levels.
        for (a, b) in zip(present, present.dropFirst()) where !(depth(b) > depth(a)) {
            violations.append(usePatient
                ? "\(b.displayName) is not below \(a.displayName) (z \(f(points[b]!.patient!.z)) mm vs \(f(points[a]!.patient!.z)) mm)"
                : "\(b.displayName) is not below \(a.displayName) (row \(f(points[b]!.grid.row)) vs \(f(points[a]!.grid.row)))")
        }
        // Two levels on one disc, over every pair.
        let minSep = usePatient ? thresholds.minSeparationMm : thresholds.minSeparationPx
        for (i, a) in present.enumerated() {
            for b in present[(i + 1)...] where dist(a, b) < minSep {
                violations.append("\(a.displayName) and \(b.displayName) are \(f(dist(a, b))) \(unit) apart (< \(f(minSep)) \(unit)): two levels on one disc")
            }
        }
        // Spacing relative to the median neighbour spacing, when the whole ladder is there.
        let missing = LevelName.allCases.filter { points[$0] == nil }
        if missing.isEmpty {
            let pairs = Array(zip(present, present.dropFirst()))
            let gaps = pairs.map { dist($0.0, $0.1) }
            let sorted = gaps.sorted()
            let median = (sorted[1] + sorted[2]) / 2
            if median > 0 {
                for ((a, b), g) in zip(pairs, gaps) {
                    let r = g / median
                    if r < thresholds.minSpacingRatio || r > thresholds.maxSpacingRatio {
                        violations.append("\(a.displayName)–\(b.displayName) spacing \(f(g)) \(unit) is \(String(format: "%.2f", r))x the median \(f(median)) \(unit) (allowed \(thresholds.minSpacingRatio)x–\(thresholds.maxSpacingRatio)x)")
                    }
                }
            }
        }
        let missingReasons = missing.map { "no point for \($0.displayName) (no pixel above 0.5)" }
        let status: LadderStatus = !violations.isEmpty ? .inconsistent : (missing.isEmpty ? .consistent : .incomplete)
        return LadderCheck(status: status, reasons: violations + missingReasons, space: space)
    }
}

// Issue 4: the five disc points must form a plausible ladder. A network that is sure of each level
// can still put two levels on one disc or swap them; the entropy risk would not see that, so the
// ladder outcome is reported as its own flag next to the risk. When the model also reports counting
// landmarks (T12/L1, the bodies, the sacrum: `LadderRung`), the whole ladder is checked in half
// steps: a disc ladder shifted by one level while the sacrum stays where it is shows up as a gap.
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
    /// Whole-ladder check (discs and landmarks): each step between neighbouring points, divided by
    /// the half steps it spans, against the median half step of the series.
    public var minStepRatio: Double
    public var maxStepRatio: Double

    public static let `default` = LadderThresholds()

    public init(minSpacingRatio: Double = 0.5, maxSpacingRatio: Double = 1.8,
                minSeparationMm: Double = 10, minSeparationPx: Double = 7,
                minStepRatio: Double = 0.5, maxStepRatio: Double = 1.8) {
        self.minSpacingRatio = minSpacingRatio
        self.maxSpacingRatio = maxSpacingRatio
        self.minSeparationMm = minSeparationMm
        self.minSeparationPx = minSeparationPx
        self.minStepRatio = minStepRatio
        self.maxStepRatio = maxStepRatio
    }

    enum CodingKeys: String, CodingKey {
        case minSpacingRatio = "min_spacing_ratio", maxSpacingRatio = "max_spacing_ratio"
        case minSeparationMm = "min_separation_mm", minSeparationPx = "min_separation_px"
        case minStepRatio = "min_step_ratio", maxStepRatio = "max_step_ratio"
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
    ///
    /// `landmarks` holds the points of the model's landmark rungs that were found (a landmark the
    /// model does not find is not a violation: the field of view may end above the sacrum). Keys
    /// that are disc levels are ignored there: the discs come from `points`.
    ///
    /// `sites` holds, per disc level, the separate parts of its map (`LevelMetrics.sites`) when
    /// there is more than one: a level whose map sits on two discs has its point between them,
    /// which is no disc at all, so parts farther apart than one disc's thickness are a violation.
    public static func check(_ points: [LevelName: LadderPoint],
                             landmarks: [LadderRung: LadderPoint] = [:],
                             sites: [LevelName: [LadderPoint]] = [:],
                             thresholds: LadderThresholds = .default) -> LadderCheck {
        let present = LevelName.allCases.filter { points[$0] != nil }
        var rungs: [LadderRung: LadderPoint] = landmarks.filter { $0.key.level == nil }
        for (l, p) in points { rungs[LadderRung(l)] = p }
        let usePatient = !rungs.isEmpty && rungs.values.allSatisfy { $0.patient != nil }
        let space: LadderSpace = usePatient ? .mm : .px
        let unit = usePatient ? "mm" : "px"
        func coords(_ p: LadderPoint) -> [Double] {
            if usePatient, let m = p.patient { return [m.x, m.y, m.z] }
            return [p.grid.row, p.grid.column]
        }
        func coords(_ l: LevelName) -> [Double] { coords(points[l]!) }
        /// Larger = more inferior.
        func depth(_ p: LadderPoint) -> Double { usePatient ? -p.patient!.z : p.grid.row }
        func depth(_ l: LevelName) -> Double { depth(points[l]!) }
        func dist(_ a: [Double], _ b: [Double]) -> Double {
            sqrt(zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) })
        }
        func dist(_ a: LevelName, _ b: LevelName) -> Double { dist(coords(a), coords(b)) }
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
        // One level on two discs: its map in separate parts, farther apart than one disc.
        for level in present {
            guard let parts = sites[level], parts.count > 1 else { continue }
            let c = parts.map(coords)
            var widest = 0.0
            for (i, a) in c.enumerated() { for b in c[(i + 1)...] { widest = max(widest, dist(a, b)) } }
            if widest >= minSep {
                violations.append("\(level.displayName) is on \(parts.count) sites up to \(f(widest)) \(unit) apart (≥ \(f(minSep)) \(unit)): one level on more than one disc, its point between them")
            }
        }
        // Spacing relative to the median neighbour spacing, when the whole ladder is there.
        let missing = LevelName.allCases.filter { points[$0] == nil }
        if missing.isEmpty {
            let pairs = Array(zip(present, present.dropFirst()))
            let gaps = pairs.map { dist($0.0, $0.1) }
            let medianGap = median(gaps)
            if medianGap > 0 {
                for ((a, b), g) in zip(pairs, gaps) {
                    let r = g / medianGap
                    if r < thresholds.minSpacingRatio || r > thresholds.maxSpacingRatio {
                        violations.append("\(a.displayName)–\(b.displayName) spacing \(f(g)) \(unit) is \(String(format: "%.2f", r))x the median \(f(medianGap)) \(unit) (allowed \(thresholds.minSpacingRatio)x–\(thresholds.maxSpacingRatio)x)")
                    }
                }
            }
        }
        // The whole ladder in half steps, when the model reports landmarks.
        if rungs.count > present.count {
            violations += halfStepViolations(rungs, depth: depth, distance: { dist(coords($0), coords($1)) },
                                             unit: unit, thresholds: thresholds)
        }
        let missingReasons = missing.map { "no point for \($0.displayName) (no pixel above 0.5)" }
        let status: LadderStatus = !violations.isEmpty ? .inconsistent : (missing.isEmpty ? .consistent : .incomplete)
        return LadderCheck(status: status, reasons: violations + missingReasons, space: space)
    }

    /// The median of a non-empty list (the mean of the two middle values for an even count).
    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Order and step length over every found rung, discs and landmarks together. Steps are
    /// normalised by the half steps they span, so a rung the model did not find is skipped over.
    static func halfStepViolations(_ rungs: [LadderRung: LadderPoint], depth: (LadderPoint) -> Double,
                                   distance: (LadderPoint, LadderPoint) -> Double, unit: String,
                                   thresholds: LadderThresholds) -> [String] {
        let found = LadderRung.allCases.filter { rungs[$0] != nil }
        guard found.count >= 3 else { return [] }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var out: [String] = []
        let pairs = Array(zip(found, found.dropFirst()))
        for (a, b) in pairs where !(depth(rungs[b]!) > depth(rungs[a]!)) {
            out.append("landmark ladder: \(b.className) is not below \(a.className)")
        }
        let steps = pairs.map { distance(rungs[$0.0]!, rungs[$0.1]!) / Double($0.1.halfStep - $0.0.halfStep) }
        let medianStep = median(steps)
        guard medianStep > 0 else { return out }
        for ((a, b), s) in zip(pairs, steps) {
            let r = s / medianStep
            if r < thresholds.minStepRatio || r > thresholds.maxStepRatio {
                out.append("landmark ladder: \(a.className)–\(b.className) is \(String(format: "%.2f", r))x the median half step \(f(medianStep)) \(unit) (allowed \(thresholds.minStepRatio)x–\(thresholds.maxStepRatio)x)")
            }
        }
        return out
    }
}

// What the network's output says about the lumbar count and the lumbosacral junction, read off the
// middle slice's probability maps. A normal-anatomy localizer counts up from the sacrum, confidently,
// so its disc entropies hardly move on a miscount (models/MODEL_CARD.md). Where its confusion does
// show is at the two ends of the count:
// - the thoracolumbar end: the T12/L1 and L1 maps, the rungs the network also places by their own
//   appearance, spread and lie partly on other structures when the disc under them is not the one
//   they learned (a sixth lumbar disc, or a thoracic one when a lumbar segment is missing); the
//   thoracolumbar locator (a second network that never sees the sacrum) puts T12/L1 elsewhere;
// - the lumbosacral end: a rudimentary lowest disc shortens the L5 body to sacrum span and the last
//   disc spacing, and shrinks the L5/S1 map against the other discs'.
import Foundation

/// One piece of evidence: its name (JSON, the model file's calibration), which part of the
/// suspicion it feeds and which way is suspicious.
public enum SuspicionFeature: String, CaseIterable, Codable, Sendable, CodingKeyRepresentable {
    /// Entropy (nats, the reference formula) of the T12/L1 map.
    case thoracolumbarEntropy = "thoracolumbar_entropy"
    /// Entropy of the L1 body map.
    case l1Entropy = "l1_entropy"
    /// Share of the T12/L1 map's probability farther than half a level step from its point.
    case thoracolumbarOffLevel = "thoracolumbar_off_level"
    /// The same for the L1 body map.
    case l1OffLevel = "l1_off_level"
    /// Σ of that share over every ladder map: how much of the ladder sits on other structures.
    case assignmentAmbiguity = "assignment_ambiguity"
    /// Probability that the thoracolumbar locator puts T12/L1 on another disc than the ladder.
    case countShift = "count_shift"
    /// L5 body to S1 anchor against L4 body to L5 body.
    case lumbosacralSpan = "lumbosacral_span"
    /// L4/L5 to L5/S1 spacing against L3/L4 to L4/L5.
    case lowestDiscSpacing = "lowest_disc_spacing"
    /// Probability mass of the L5/S1 map against the median of the L1/L2…L4/L5 maps'.
    case lowestDiscExtent = "lowest_disc_extent"

    public var component: SuspicionComponent {
        switch self {
        case .thoracolumbarEntropy, .l1Entropy, .thoracolumbarOffLevel, .l1OffLevel, .assignmentAmbiguity: return .count
        case .countShift: return .locator
        case .lumbosacralSpan, .lowestDiscSpacing, .lowestDiscExtent: return .junction
        }
    }

    /// Higher values are the suspicious direction (else lower ones are).
    public var higherIsSuspicious: Bool { component != .junction }
}

/// The raw evidence of one slice. A feature is absent where the model lacks the classes or the
/// points it needs (out of view).
public struct SuspicionEvidence: Codable, Equatable, Sendable {
    public var values: [SuspicionFeature: Double]
    /// Median disc-to-disc step on the grid (px).
    public var levelStep: Double?
    /// T12/L1 (or, for a model without it, one step above L1/L2) found in view, with the level
    /// above it inside the image: what counting from the top needs.
    public var thoracolumbarInView: Bool
    /// The sacrum anchor (S1, or L5/S1 for a model without it) found in view.
    public var sacrumInView: Bool
    /// The thoracolumbar locator's posterior over where T12/L1 is, by lumbar count (4, 5, 6).
    public var countPosterior: [Int: Double]?

    public init(values: [SuspicionFeature: Double] = [:], levelStep: Double? = nil, thoracolumbarInView: Bool = false,
                sacrumInView: Bool = false, countPosterior: [Int: Double]? = nil) {
        self.values = values
        self.levelStep = levelStep
        self.thoracolumbarInView = thoracolumbarInView
        self.sacrumInView = sacrumInView
        self.countPosterior = countPosterior
    }

    enum CodingKeys: String, CodingKey {
        case values = "features", levelStep = "level_step_px", thoracolumbarInView = "thoracolumbar_in_view"
        case sacrumInView = "sacrum_in_view", countPosterior = "count_posterior"
    }

    /// Every feature as a key (null when absent), so readers see the full set.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        var all = c.nestedContainer(keyedBy: FeatureKey.self, forKey: .values)
        for f in SuspicionFeature.allCases { try all.encode(values[f], forKey: FeatureKey(f.rawValue)) }
        try c.encode(levelStep, forKey: .levelStep)
        try c.encode(thoracolumbarInView, forKey: .thoracolumbarInView)
        try c.encode(sacrumInView, forKey: .sacrumInView)
        try c.encode(countPosterior.map { Dictionary(uniqueKeysWithValues: $0.map { (String($0.key), $0.value) }) }, forKey: .countPosterior)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let raw = try c.decode([String: Double?].self, forKey: .values)
        values = [:]
        for (k, v) in raw { if let f = SuspicionFeature(rawValue: k), let v { values[f] = v } }
        levelStep = try c.decodeIfPresent(Double.self, forKey: .levelStep)
        thoracolumbarInView = try c.decode(Bool.self, forKey: .thoracolumbarInView)
        sacrumInView = try c.decode(Bool.self, forKey: .sacrumInView)
        countPosterior = try c.decodeIfPresent([String: Double].self, forKey: .countPosterior)
            .map { Dictionary(uniqueKeysWithValues: $0.compactMap { k, v in Int(k).map { ($0, v) } }) }
    }

    struct FeatureKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Reads the evidence from one image of the localizer's softmax output (channel-major, in place);
    /// with a `locator`, also its count posterior on `grid` (the 8-bit image the localizer saw).
    /// `points`: the rungs' points when the caller has decoded them already (the analyzer's pass);
    /// nil decodes them here.
    public static func measure(probabilities: ArraySlice<Float>, classes: [String], rows: Int, columns: Int,
                               points: [LadderRung: PixelPoint]? = nil,
                               grid: [UInt8]? = nil, locator: ThoracolumbarLocator? = nil) throws -> SuspicionEvidence {
        let maps = try LadderMaps(probabilities: probabilities, classes: classes, rows: rows, columns: columns, points: points)
        var e = SuspicionEvidence()
        e.thoracolumbarInView = maps.points[.t12_l1] != nil
        e.sacrumInView = classes.contains(LadderRung.s1.className) ? maps.points[.s1] != nil : maps.points[.l5_s1] != nil
        if let h = maps.map(.t12_l1), e.thoracolumbarInView { e.values[.thoracolumbarEntropy] = Metrics.entropy(h.lazy.map(Double.init)) }
        if let h = maps.map(.l1), maps.points[.l1] != nil { e.values[.l1Entropy] = Metrics.entropy(h.lazy.map(Double.init)) }

        guard let step = maps.discStep else { return e }
        e.levelStep = step
        var ambiguity = 0.0, counted = 0
        for rung in LadderRung.allCases {
            guard let share = maps.offLevelShare(rung, radius: 0.5 * step) else { continue }
            ambiguity += share
            counted += 1
            if rung == .t12_l1 { e.values[.thoracolumbarOffLevel] = share }
            if rung == .l1 { e.values[.l1OffLevel] = share }
        }
        if counted > 0 { e.values[.assignmentAmbiguity] = ambiguity }

        let p = maps.points
        if let l4 = p[.l4], let l5 = p[.l5], let s1 = p[.s1], distance(l4, l5) > 0 {
            e.values[.lumbosacralSpan] = distance(l5, s1) / distance(l4, l5)
        }
        if let a = p[.l3_l4], let b = p[.l4_l5], let c = p[.l5_s1], distance(a, b) > 0 {
            e.values[.lowestDiscSpacing] = distance(b, c) / distance(a, b)
        }
        if let (center, axis) = maps.thoracolumbarRung(step: step) {
            // Counting from the top needs the level above T12/L1 in the image: a rung at the edge of
            // the field of view leaves the count undetermined, whatever the maps say.
            let above = PixelPoint(row: center.row - step * axis.row, column: center.column - step * axis.column)
            let aboveInView = above.row >= 0 && above.row <= Double(rows - 1) && above.column >= 0 && above.column <= Double(columns - 1)
            if !aboveInView { e.thoracolumbarInView = false }
            if aboveInView, let locator, let grid,
               let posterior = try locator.countPosterior(grid: grid, rows: rows, columns: columns, t12l1: center, axis: axis, step: step) {
                e.countPosterior = posterior
                e.values[.countShift] = 1 - (posterior[5] ?? 0)
                // A model without a T12/L1 class: the locator's finding stands for the junction in view.
                if !classes.contains(LadderRung.t12_l1.className) { e.thoracolumbarInView = true }
            }
        }
        let upper = [LadderRung.l1_l2, .l2_l3, .l3_l4, .l4_l5].compactMap { maps.masses[$0] }
        if let lowest = maps.masses[.l5_s1], upper.count == 4 {
            let ref = LevelLadder.median(upper)
            if ref > 0 { e.values[.lowestDiscExtent] = lowest / ref }
        }
        return e
    }

    static func distance(_ a: PixelPoint, _ b: PixelPoint) -> Double {
        ((a.row - b.row) * (a.row - b.row) + (a.column - b.column) * (a.column - b.column)).squareRoot()
    }
}

/// The ladder's maps of one image, read in place: each rung's plane, point and total mass.
struct LadderMaps {
    let probabilities: ArraySlice<Float>
    let classes: [String]
    let rows: Int, columns: Int
    var points: [LadderRung: PixelPoint] = [:]
    var masses: [LadderRung: Double] = [:]

    init(probabilities: ArraySlice<Float>, classes: [String], rows: Int, columns: Int, points known: [LadderRung: PixelPoint]?) throws {
        guard probabilities.count == classes.count * rows * columns else {
            throw MetricsError.shape("\(probabilities.count) values for \(classes.count) classes of \(rows)x\(columns)")
        }
        self.probabilities = probabilities
        self.classes = classes
        self.rows = rows
        self.columns = columns
        for rung in LadderRung.allCases {
            guard let h = map(rung) else { continue }
            if let known {
                points[rung] = known[rung]
            } else if let p = try Metrics.point(h, rows: rows, columns: columns, name: rung.className) {
                points[rung] = p
            }
            masses[rung] = h.reduce(0.0) { $0 + Double($1) }
        }
    }

    func map(_ rung: LadderRung) -> ArraySlice<Float>? {
        guard let k = classes.firstIndex(of: rung.className) else { return nil }
        let start = probabilities.startIndex + k * rows * columns
        return probabilities[start..<(start + rows * columns)]
    }

    /// The median spacing of consecutive found discs (T12/L1 … L5/S1), nil with fewer than two.
    var discStep: Double? {
        let discs = LadderRung.allCases.filter { $0.halfStep % 2 == 0 }.compactMap { points[$0] }
        let gaps = zip(discs, discs.dropFirst()).map { SuspicionEvidence.distance($0, $1) }
        guard !gaps.isEmpty else { return nil }
        let m = LevelLadder.median(gaps)
        return m > 0 ? m : nil
    }

    /// The localizer's T12/L1 point (or, for a model without one, one step above L1/L2) and the unit
    /// vector down the spine (first to last found disc).
    func thoracolumbarRung(step: Double) -> (PixelPoint, (row: Double, column: Double))? {
        let discs = LadderRung.allCases.filter { $0.halfStep % 2 == 0 }.compactMap { points[$0] }
        guard let first = discs.first, let last = discs.last, discs.count >= 2 else { return nil }
        let length = SuspicionEvidence.distance(first, last)
        guard length > 0 else { return nil }
        let axis = (row: (last.row - first.row) / length, column: (last.column - first.column) / length)
        if let t = points[.t12_l1] { return (t, axis) }
        guard let l1l2 = points[.l1_l2] else { return nil }
        return (PixelPoint(row: l1l2.row - step * axis.row, column: l1l2.column - step * axis.column), axis)
    }

    /// Share of a rung's probability farther than `radius` from its point (nil: no point or no mass).
    func offLevelShare(_ rung: LadderRung, radius: Double) -> Double? {
        guard let h = map(rung), let p = points[rung], let total = masses[rung], total > 0 else { return nil }
        var far = 0.0
        let r2 = radius * radius
        var i = h.startIndex
        for r in 0..<rows {
            let dr = Double(r) - p.row
            for c in 0..<columns {
                let dc = Double(c) - p.column
                if dr * dr + dc * dc > r2 { far += Double(h[i]) }
                i += 1
            }
        }
        return far / total
    }
}

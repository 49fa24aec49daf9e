// What the network's output says about the lumbar count and the lumbosacral junction, read off the
// middle slice's probability maps. A normal-anatomy localizer counts up from the sacrum, confidently,
// so its disc entropies hardly move on a miscount (measured: models/MODEL_CARD.md). Where its
// confusion does show is at the two ends of the count and in how its level maps spread:
// - the thoracolumbar end: the T12/L1 map, the one rung anchored by appearance at the top rather
//   than by the sacrum, spreads when the disc under it is not the one it learned (a sixth lumbar
//   disc, or a thoracic one when a lumbar segment is missing);
// - level assignment: a share of each ladder map's probability lies on other structures;
// - the lumbosacral end: a rudimentary lowest disc shortens the L5 body to sacrum span and shrinks
//   the L5/S1 map against the other discs'.

/// The raw evidence of one slice (grid units). Nil where the model lacks the classes or the
/// points it needs.
public struct SuspicionEvidence: Codable, Equatable, Sendable {
    /// Entropy (nats, the reference formula) of the T12/L1 map; nil when T12/L1 is out of view.
    public var thoracolumbarEntropy: Double?
    /// Σ over the ladder's maps of the share of each map's probability farther than half a level
    /// step from its own point.
    public var assignmentAmbiguity: Double?
    /// Distance from the L5 body to the S1 anchor, in median disc-to-disc steps; nil when either
    /// is not found (the sacrum out of view).
    public var lumbosacralSpan: Double?
    /// Probability mass of the L5/S1 map against the median of the L1/L2…L4/L5 maps'.
    public var lowestDiscExtent: Double?
    /// Median disc-to-disc step on the grid (px): the unit of the distances above.
    public var levelStep: Double?

    enum CodingKeys: String, CodingKey {
        case thoracolumbarEntropy = "thoracolumbar_entropy", assignmentAmbiguity = "assignment_ambiguity"
        case lumbosacralSpan = "lumbosacral_span", lowestDiscExtent = "lowest_disc_extent", levelStep = "level_step_px"
    }

    public init(thoracolumbarEntropy: Double? = nil, assignmentAmbiguity: Double? = nil, lumbosacralSpan: Double? = nil,
                lowestDiscExtent: Double? = nil, levelStep: Double? = nil) {
        self.thoracolumbarEntropy = thoracolumbarEntropy
        self.assignmentAmbiguity = assignmentAmbiguity
        self.lumbosacralSpan = lumbosacralSpan
        self.lowestDiscExtent = lowestDiscExtent
        self.levelStep = levelStep
    }

    // Explicit so that absent values are written as null.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(thoracolumbarEntropy, forKey: .thoracolumbarEntropy)
        try c.encode(assignmentAmbiguity, forKey: .assignmentAmbiguity)
        try c.encode(lumbosacralSpan, forKey: .lumbosacralSpan)
        try c.encode(lowestDiscExtent, forKey: .lowestDiscExtent)
        try c.encode(levelStep, forKey: .levelStep)
    }

    /// Reads the evidence from one image of the softmax output (channel-major, in place).
    public static func measure(probabilities: ArraySlice<Float>, classes: [String], rows: Int, columns: Int) throws -> SuspicionEvidence {
        let plane = rows * columns
        guard probabilities.count == classes.count * plane else {
            throw MetricsError.shape("\(probabilities.count) values for \(classes.count) classes of \(rows)x\(columns)")
        }
        func map(_ rung: LadderRung) -> ArraySlice<Float>? {
            guard let k = classes.firstIndex(of: rung.className) else { return nil }
            let start = probabilities.startIndex + k * plane
            return probabilities[start..<(start + plane)]
        }
        var points: [LadderRung: PixelPoint] = [:]
        var masses: [LadderRung: Double] = [:]
        for rung in LadderRung.allCases {
            guard let h = map(rung) else { continue }
            let m = try Metrics.level(h, rows: rows, columns: columns, name: rung.className)
            if let p = m.point { points[rung] = p }
            masses[rung] = h.reduce(0.0) { $0 + Double($1) }
        }
        var e = SuspicionEvidence()
        // Only a T12/L1 in view counts: a map with no point above 0.5 is a junction out of view.
        if let h = map(.t12_l1), points[.t12_l1] != nil { e.thoracolumbarEntropy = Metrics.entropy(h.lazy.map(Double.init)) }

        let discs = LadderRung.allCases.filter { $0.halfStep % 2 == 0 && $0 != .s1 }.compactMap { points[$0] }
        let gaps = zip(discs, discs.dropFirst()).map { distance($0, $1) }
        guard !gaps.isEmpty else { return e }
        let step = LevelLadder.median(gaps)
        guard step > 0 else { return e }
        e.levelStep = step

        var ambiguity = 0.0
        for (rung, p) in points {
            guard let h = map(rung), let total = masses[rung], total > 0 else { continue }
            var far = 0.0
            let radius2 = (0.5 * step) * (0.5 * step)
            var i = h.startIndex
            for r in 0..<rows {
                let dr = Double(r) - p.row
                for c in 0..<columns {
                    let dc = Double(c) - p.column
                    if dr * dr + dc * dc > radius2 { far += Double(h[i]) }
                    i += 1
                }
            }
            ambiguity += far / total
        }
        e.assignmentAmbiguity = ambiguity

        if let l5 = points[.l5], let s1 = points[.s1] { e.lumbosacralSpan = distance(l5, s1) / step }
        let upper = [LadderRung.l1_l2, .l2_l3, .l3_l4, .l4_l5].compactMap { masses[$0] }
        if let lowest = masses[.l5_s1], upper.count == 4 {
            let ref = LevelLadder.median(upper)
            if ref > 0 { e.lowestDiscExtent = lowest / ref }
        }
        return e
    }

    static func distance(_ a: PixelPoint, _ b: PixelPoint) -> Double {
        ((a.row - b.row) * (a.row - b.row) + (a.column - b.column) * (a.column - b.column)).squareRoot()
    }
}

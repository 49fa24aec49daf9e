import Foundation

// `lstv_suspicion`: how far one series' count and junction evidence lies from normal anatomy, as
// the model's own normal validation cases define it (`SuspicionCalibration`, in the model file).
//
// Scale: each piece of evidence becomes a robust z-score against the normal cases (median and
// 1.4826 x MAD: 1 is one standard deviation of normal anatomy), signed so that higher is more
// suspicious; the suspicion is the root sum of squares of the positive ones, plus a fixed term when
// the level ladder is inconsistent. 0 is typical normal anatomy; about 2 is unusual; the model's
// risk thresholds are set on normal cases at stated false-positive rates.
//
// A model without a calibration (e.g. a converted RSNA checkpoint) is scored on the reference's
// scale instead: the suspicion is the L5/S1 entropy in nats, with the reference thresholds.

/// The evidence the suspicion reads, by name (JSON and the model file's calibration keys).
public enum SuspicionComponent: String, Codable, CaseIterable, Sendable {
    /// The T12/L1 map's spread: the count from the top does not settle.
    case count
    /// Level maps lying on other structures: which disc is which is uncertain.
    case assignment
    /// A short L5–sacrum span or a small L5/S1 map: a rudimentary lowest disc.
    case junction
    /// The level ladder check is inconsistent (order, spacing, two levels on one disc, stability).
    case ladder
}

/// The scale a suspicion value is on.
public enum SuspicionScale: String, Codable, Sendable {
    /// Root sum of squared positive robust z-scores against the model's normal validation cases.
    case normalDeviation = "normal_sd"
    /// The reference method's L5/S1 heatmap entropy (nats): models without a calibration.
    case l5s1Entropy = "l5s1_entropy_nats"
}

/// One feature's normal distribution: median and robust spread (1.4826 x MAD).
public struct NormalRange: Codable, Equatable, Sendable {
    public var median: Double
    public var scale: Double
    public init(median: Double, scale: Double) {
        self.median = median
        self.scale = scale
    }
}

/// What a model file carries (`suspicion` metadata key): the normal ranges of its evidence and its
/// risk thresholds on `lstv_suspicion`, with their provenance.
public struct SuspicionCalibration: Codable, Equatable, Sendable {
    public var thoracolumbarEntropy: NormalRange
    public var assignmentAmbiguity: NormalRange
    public var lumbosacralSpan: NormalRange
    public var lowestDiscExtent: NormalRange
    /// Added to the squares when the ladder is inconsistent (a z of this size).
    public var ladderTerm: Double
    public var thresholds: RiskThresholds
    /// Free text: the cases and false-positive rates the thresholds were set at.
    public var provenance: String

    enum CodingKeys: String, CodingKey {
        case thoracolumbarEntropy = "thoracolumbar_entropy", assignmentAmbiguity = "assignment_ambiguity"
        case lumbosacralSpan = "lumbosacral_span", lowestDiscExtent = "lowest_disc_extent"
        case ladderTerm = "ladder_term", thresholds, provenance
    }

    public init(thoracolumbarEntropy: NormalRange, assignmentAmbiguity: NormalRange, lumbosacralSpan: NormalRange,
                lowestDiscExtent: NormalRange, ladderTerm: Double, thresholds: RiskThresholds, provenance: String) {
        self.thoracolumbarEntropy = thoracolumbarEntropy
        self.assignmentAmbiguity = assignmentAmbiguity
        self.lumbosacralSpan = lumbosacralSpan
        self.lowestDiscExtent = lowestDiscExtent
        self.ladderTerm = ladderTerm
        self.thresholds = thresholds
        self.provenance = provenance
    }

    /// The metadata key of a model file.
    public static let metadataKey = "suspicion"

    /// The calibration in a model file's metadata; nil when it has none; throws when it is malformed.
    public static func from(metadata raw: [String: String]) throws -> SuspicionCalibration? {
        guard let text = raw[metadataKey] else { return nil }
        let c: SuspicionCalibration
        do {
            c = try JSONDecoder().decode(SuspicionCalibration.self, from: Data(text.utf8))
        } catch {
            throw SuspicionError("model metadata '\(metadataKey)' is not a valid calibration: \(error)")
        }
        if let p = c.problem { throw SuspicionError("model metadata '\(metadataKey)': \(p)") }
        return c
    }

    var problem: String? {
        for (name, r) in [("thoracolumbar_entropy", thoracolumbarEntropy), ("assignment_ambiguity", assignmentAmbiguity),
                          ("lumbosacral_span", lumbosacralSpan), ("lowest_disc_extent", lowestDiscExtent)] {
            guard r.median.isFinite, r.scale.isFinite, r.scale > 0 else { return "\(name) needs a finite median and a positive scale" }
        }
        guard ladderTerm.isFinite, ladderTerm >= 0 else { return "ladder_term must be finite and not negative" }
        return thresholds.problem
    }
}

public struct SuspicionError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Where the risk thresholds come from (`risk_thresholds` in the configuration).
public enum RiskThresholdSource: Equatable, Sendable {
    /// The model file's own thresholds (its calibration); the reference defaults for a model without one.
    case model
    /// A site's own thresholds on `lstv_suspicion` (e.g. from a local ROC calibration).
    case configured(RiskThresholds)
}

/// One component's contribution to the suspicion.
public struct SuspicionTerm: Codable, Equatable, Sendable {
    public var component: SuspicionComponent
    /// Robust z against normal anatomy (higher = more suspicious); nil when not measurable.
    public var z: Double?
    public init(component: SuspicionComponent, z: Double?) {
        self.component = component
        self.z = z
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(component, forKey: .component)
        try c.encode(z, forKey: .z)
    }
}

/// The lumbar count the node reports: mobile lumbar vertebrae between the thoracolumbar junction and
/// the sacrum as the model numbers them (counting up from the sacrum: 5 when both ends are in view),
/// with the tail probability of its count evidence under normal anatomy.
public struct LumbarCount: Codable, Equatable, Sendable {
    /// 5, or nil (undetermined) when the T12/L1 disc or the sacrum is out of view.
    public var value: Int?
    /// P(normal anatomy gives count evidence at least this unusual) (two-sided normal tail of the
    /// count z): near 1 typical, below 0.05 a count the node doubts. Nil without a calibration.
    public var pNormal: Double?
    /// Why the count is undetermined, or nil.
    public var undeterminedBecause: String?

    enum CodingKeys: String, CodingKey { case value, pNormal = "p_normal", undeterminedBecause = "undetermined_because" }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(value, forKey: .value)
        try c.encode(pNormal, forKey: .pNormal)
        try c.encode(undeterminedBecause, forKey: .undeterminedBecause)
    }
}

/// The lumbosacral junction's state.
public enum JunctionState: String, Codable, Sendable {
    case typical, narrow, undetermined
}

public struct LumbosacralJunction: Codable, Equatable, Sendable {
    public var state: JunctionState
    /// L5 body to S1 anchor in level steps (normal: about the model's median).
    public var span: Double?
    /// The L5/S1 disc map against the other discs' (1 = the same extent).
    public var lowestDiscExtent: Double?
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state, forKey: .state)
        try c.encode(span, forKey: .span)
        try c.encode(lowestDiscExtent, forKey: .lowestDiscExtent)
    }
    enum CodingKeys: String, CodingKey { case state, span, lowestDiscExtent = "lowest_disc_extent" }
}

/// The suspicion of one series and why.
public struct SuspicionReport: Codable, Equatable, Sendable {
    public var value: Double
    public var scale: SuspicionScale
    public var terms: [SuspicionTerm]
    public var evidence: SuspicionEvidence
    public var lumbarCount: LumbarCount
    public var junction: LumbosacralJunction
    /// Why the suspicion rose, in a radiologist's words, strongest first (empty when it did not).
    public var reasons: [String]

    enum CodingKeys: String, CodingKey {
        case value, scale, terms, evidence, lumbarCount = "lumbar_count", junction, reasons
    }
}

public enum Suspicion {
    /// A z at or above this is reported as a reason (and makes the junction `narrow`).
    public static let reasonZ = 2.0

    /// Scores the evidence of one series. `ladder` is the ladder check's outcome; `l5s1Entropy`
    /// the reference metric (the scale of an uncalibrated model).
    public static func score(_ e: SuspicionEvidence, ladder: LadderCheck, l5s1Entropy: Double,
                             calibration: SuspicionCalibration?) -> SuspicionReport {
        let count = lumbarCount(e, ladder: ladder)
        guard let cal = calibration else {
            return SuspicionReport(value: l5s1Entropy, scale: .l5s1Entropy, terms: [], evidence: e, lumbarCount: count,
                                   junction: LumbosacralJunction(state: e.lumbosacralSpan == nil ? .undetermined : .typical,
                                                                 span: e.lumbosacralSpan, lowestDiscExtent: e.lowestDiscExtent),
                                   reasons: ladder.status == .inconsistent ? ["Level ladder inconsistent: " + ladder.reasons.joined(separator: "; ")] : [])
        }
        func z(_ v: Double?, _ r: NormalRange, higherIsSuspicious: Bool) -> Double? {
            guard let v, v.isFinite else { return nil }
            return (higherIsSuspicious ? v - r.median : r.median - v) / r.scale
        }
        let zCount = z(e.thoracolumbarEntropy, cal.thoracolumbarEntropy, higherIsSuspicious: true)
        let zAssignment = z(e.assignmentAmbiguity, cal.assignmentAmbiguity, higherIsSuspicious: true)
        let zSpan = z(e.lumbosacralSpan, cal.lumbosacralSpan, higherIsSuspicious: false)
        let zExtent = z(e.lowestDiscExtent, cal.lowestDiscExtent, higherIsSuspicious: false)
        let zJunction = [zSpan, zExtent].compactMap { $0 }.max()
        let zLadder = ladder.status == .inconsistent ? cal.ladderTerm : 0
        let terms = [SuspicionTerm(component: .count, z: zCount), SuspicionTerm(component: .assignment, z: zAssignment),
                     SuspicionTerm(component: .junction, z: zJunction), SuspicionTerm(component: .ladder, z: zLadder)]
        let value = terms.reduce(0.0) { s, t in
            let v = max(t.z ?? 0, 0)
            return s + v * v
        }.squareRoot()

        var reasons: [(Double, String)] = []
        func upper(_ r: NormalRange) -> String { f(r.median + reasonZ * r.scale) }
        func lower(_ r: NormalRange) -> String { f(r.median - reasonZ * r.scale) }
        if let zc = zCount, zc >= reasonZ, let v = e.thoracolumbarEntropy {
            reasons.append((zc, "Lumbar count uncertain: the T12/L1 map is spread (entropy \(f(v)) nats; normal up to \(upper(cal.thoracolumbarEntropy)))."
                            + " The levels are numbered up from the sacrum and were not renumbered; count the vertebrae from C2 or from the ribs."))
        }
        if let za = zAssignment, za >= reasonZ, let v = e.assignmentAmbiguity {
            reasons.append((za, "Level assignment uncertain: \(f(v)) of the level maps' probability lies off their own level (normal up to \(upper(cal.assignmentAmbiguity)))."))
        }
        if let zs = zSpan, zs >= reasonZ, let v = e.lumbosacralSpan {
            reasons.append((zs, "Lumbosacral junction narrow: L5 body to sacrum \(f(v)) level steps (normal from \(lower(cal.lumbosacralSpan))); a rudimentary L5/S1 disc is possible."))
        }
        if let zx = zExtent, zx >= reasonZ, let v = e.lowestDiscExtent {
            reasons.append((zx, "Lowest disc small: the L5/S1 map is \(f(v)) of the other discs' (normal from \(lower(cal.lowestDiscExtent)))."))
        }
        if ladder.status == .inconsistent {
            reasons.append((zLadder, "Level ladder inconsistent: " + ladder.reasons.joined(separator: "; ")))
        }
        var count2 = count
        if count.value != nil, let zc = zCount { count2.pNormal = twoSidedTail(zc) }
        let junctionState: JunctionState = zJunction == nil ? .undetermined : (zJunction! >= reasonZ ? .narrow : .typical)
        return SuspicionReport(value: value, scale: .normalDeviation, terms: terms, evidence: e, lumbarCount: count2,
                               junction: LumbosacralJunction(state: junctionState, span: e.lumbosacralSpan, lowestDiscExtent: e.lowestDiscExtent),
                               reasons: reasons.sorted { $0.0 > $1.0 }.map(\.1))
    }

    /// 5 when both ends of the lumbar spine are in view, else undetermined.
    static func lumbarCount(_ e: SuspicionEvidence, ladder: LadderCheck) -> LumbarCount {
        if ladder.status == .incomplete {
            return LumbarCount(value: nil, pNormal: nil, undeterminedBecause: "a disc level is not found: " + ladder.reasons.joined(separator: "; "))
        }
        guard e.thoracolumbarEntropy != nil, e.levelStep != nil else {
            return LumbarCount(value: nil, pNormal: nil, undeterminedBecause: "the thoracolumbar junction (T12/L1) is out of view or not a class of the model")
        }
        guard e.lumbosacralSpan != nil else {
            return LumbarCount(value: nil, pNormal: nil, undeterminedBecause: "the sacrum (S1) is out of view or not a class of the model")
        }
        return LumbarCount(value: 5, pNormal: nil, undeterminedBecause: nil)
    }

    /// P(|Z| ≥ z) for a standard normal Z (erfc).
    static func twoSidedTail(_ z: Double) -> Double { erfc(abs(z) / 2.0.squareRoot()) }

    static func f(_ v: Double) -> String { String(format: "%.2f", v) }
}

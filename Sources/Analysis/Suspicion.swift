import Foundation

// `lstv_suspicion`: how far one series' count and junction evidence lies from normal anatomy, as
// the model's own normal validation cases define it (`SuspicionCalibration`, in the model file).
//
// Scale: each piece of evidence becomes a z-score against the normal cases (median and standard
// deviation: 1 is one standard deviation of normal anatomy), signed so that higher is more
// suspicious; a component is the mean z of its features; the suspicion is the root sum of squares
// of the positive components (count, locator, junction), plus a fixed term when the level ladder is
// inconsistent. 0 is typical normal anatomy; about 2 is unusual; the model's
// risk thresholds are set on normal cases at stated false-positive rates.
//
// A model without a calibration (e.g. a converted RSNA checkpoint) is scored on the reference's
// scale instead: the suspicion is the L5/S1 entropy in nats, with the reference thresholds.

/// The parts of the suspicion.
public enum SuspicionComponent: String, Codable, CaseIterable, Sendable {
    /// The localizer's own count does not settle: its thoracolumbar rungs spread and lie on other
    /// structures, its ladder maps partly off their levels.
    case count
    /// The thoracolumbar locator, which never sees the sacrum, puts T12/L1 on another disc: an
    /// independent line of evidence, so its own term.
    case locator
    /// A short L5–sacrum span, a short last disc spacing or a small L5/S1 map: a rudimentary lowest disc.
    case junction
    /// The level ladder check is inconsistent (order, spacing, two levels on one disc, stability).
    case ladder
}

/// The scale a suspicion value is on.
public enum SuspicionScale: String, Codable, Sendable {
    /// Root sum of squares of the positive component z-scores against the model's normal validation cases.
    case normalDeviation = "normal_sd"
    /// The reference method's L5/S1 heatmap entropy (nats): models without a calibration.
    case l5s1Entropy = "l5s1_entropy_nats"
}

/// One feature's distribution on normal anatomy: median and standard deviation.
public struct NormalRange: Codable, Equatable, Sendable {
    public var median: Double
    public var sd: Double
    public init(median: Double, sd: Double) {
        self.median = median
        self.sd = sd
    }
}

/// What a model file carries (`suspicion` metadata key): the normal ranges of the evidence and the
/// risk thresholds on `lstv_suspicion`, with their provenance.
public struct SuspicionCalibration: Codable, Equatable, Sendable {
    /// Features without a range are reported but not scored.
    public var features: [SuspicionFeature: NormalRange]
    /// Added to the squares when the ladder is inconsistent (a z of this size).
    public var ladderTerm: Double
    public var thresholds: RiskThresholds
    /// Free text: the cases and false-positive rates the thresholds were set at.
    public var provenance: String

    enum CodingKeys: String, CodingKey { case features, ladderTerm = "ladder_term", thresholds, provenance }

    public init(features: [SuspicionFeature: NormalRange], ladderTerm: Double, thresholds: RiskThresholds, provenance: String) {
        self.features = features
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
        for (f, r) in features where !(r.median.isFinite && r.sd.isFinite && r.sd > 0) {
            return "\(f.rawValue) needs a finite median and a positive sd"
        }
        guard ladderTerm.isFinite, ladderTerm >= 0 else { return "ladder_term must be finite and not negative" }
        return thresholds.problem
    }

    /// z of one value: standard deviations from the normal median, in the suspicious direction.
    func z(_ feature: SuspicionFeature, _ value: Double?) -> Double? {
        guard let value, value.isFinite, let r = features[feature] else { return nil }
        return (feature.higherIsSuspicious ? value - r.median : r.median - value) / r.sd
    }
}

public struct SuspicionError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Where the risk thresholds come from (`risk_thresholds` in the configuration).
public enum RiskThresholdSource: Equatable, Sendable, Codable {
    /// The model file's own thresholds (its calibration); the reference defaults for a model without one.
    case model
    /// A site's own thresholds on `lstv_suspicion` (e.g. from a local ROC calibration).
    case configured(RiskThresholds)

    /// How `model` is written (`risk_thresholds: model`); the other form is `{high: H, medium: M}`.
    public static let modelWord = "model"

    public init(from decoder: Decoder) throws {
        let single = try decoder.singleValueContainer()
        let word: String
        do { word = try single.decode(String.self) } catch DecodingError.typeMismatch {
            // Not a word: it must be the mapping; its own errors name what is wrong in it.
            self = .configured(try single.decode(RiskThresholds.self))
            return
        }
        guard word == Self.modelWord else {
            throw DecodingError.dataCorruptedError(in: single, debugDescription: "must be '\(Self.modelWord)' or {high, medium}, not '\(word)'")
        }
        self = .model
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .model: try c.encode(Self.modelWord)
        case .configured(let t): try c.encode(t)
        }
    }
}

/// One component's contribution to the suspicion.
public struct SuspicionTerm: Codable, Equatable, Sendable {
    public var component: SuspicionComponent
    /// Mean z of its features against normal anatomy (higher = more suspicious); nil when none
    /// was measurable.
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

/// The lumbar count the node reports: mobile lumbar vertebrae between the thoracolumbar junction
/// and the sacrum. The localizer numbers its levels up from the sacrum (5 when both ends are in
/// view); the thoracolumbar locator, which never sees the sacrum, says where T12/L1 is by its own
/// appearance, and so whether the count is 4, 5 or 6. Levels are never renumbered: a count other
/// than 5 is stated, and the reader counts on the images.
public struct LumbarCount: Codable, Equatable, Sendable {
    /// 4, 5 or 6; nil (undetermined) when T12/L1 or the sacrum is out of view.
    public var value: Int?
    /// The probability of `value` (the locator's posterior); nil without a locator.
    public var probability: Double?
    /// Why the count is undetermined, or nil.
    public var undeterminedBecause: String?

    enum CodingKeys: String, CodingKey { case value, probability, undeterminedBecause = "undetermined_because" }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(value, forKey: .value)
        try c.encode(probability, forKey: .probability)
        try c.encode(undeterminedBecause, forKey: .undeterminedBecause)
    }
}

/// The lumbosacral junction's state.
public enum JunctionState: String, Codable, Sendable {
    case typical, narrow, undetermined
}

public struct LumbosacralJunction: Codable, Equatable, Sendable {
    public var state: JunctionState
    /// L5 body to S1 against L4 body to L5 body (1 = equal).
    public var span: Double?
    /// L4/L5 to L5/S1 spacing against L3/L4 to L4/L5 (1 = equal).
    public var lowestDiscSpacing: Double?
    /// The L5/S1 disc map against the other discs' (1 = the same extent).
    public var lowestDiscExtent: Double?
    enum CodingKeys: String, CodingKey { case state, span, lowestDiscSpacing = "lowest_disc_spacing", lowestDiscExtent = "lowest_disc_extent" }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state, forKey: .state)
        try c.encode(span, forKey: .span)
        try c.encode(lowestDiscSpacing, forKey: .lowestDiscSpacing)
        try c.encode(lowestDiscExtent, forKey: .lowestDiscExtent)
    }
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

    /// Scores the evidence of one series. `ladder` is the ladder check's final outcome; `l5s1Entropy`
    /// the reference metric (the scale of an uncalibrated model).
    public static func score(_ e: SuspicionEvidence, ladder: LadderCheck, l5s1Entropy: Double,
                             calibration: SuspicionCalibration?) -> SuspicionReport {
        let count = lumbarCount(e, ladder: ladder)
        var junction = LumbosacralJunction(state: .undetermined, span: e.values[.lumbosacralSpan],
                                           lowestDiscSpacing: e.values[.lowestDiscSpacing], lowestDiscExtent: e.values[.lowestDiscExtent])
        guard let cal = calibration else {
            var reasons: [String] = []
            if let v = count.value, v != 5, let p = count.probability { reasons.append(countReason(v, p)) }
            if ladder.status == .inconsistent { reasons.append(ladderReason(ladder)) }
            return SuspicionReport(value: l5s1Entropy, scale: .l5s1Entropy, terms: [], evidence: e, lumbarCount: count,
                                   junction: junction, reasons: reasons)
        }
        var zs: [SuspicionFeature: Double] = [:]
        for f in SuspicionFeature.allCases { if let z = cal.z(f, e.values[f]) { zs[f] = z } }
        func mean(_ c: SuspicionComponent) -> Double? {
            let v = SuspicionFeature.allCases.filter { $0.component == c }.compactMap { zs[$0] }
            return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
        }
        let terms = [SuspicionTerm(component: .count, z: mean(.count)), SuspicionTerm(component: .locator, z: mean(.locator)),
                     SuspicionTerm(component: .junction, z: mean(.junction)),
                     SuspicionTerm(component: .ladder, z: ladder.status == .inconsistent ? cal.ladderTerm : 0)]
        let value = terms.reduce(0.0) { s, t in
            let v = max(t.z ?? 0, 0)
            return s + v * v
        }.squareRoot()
        if let zj = terms.first(where: { $0.component == .junction })?.z { junction.state = zj >= reasonZ ? .narrow : .typical }

        var reasons: [(Double, String)] = []
        if let v = count.value, v != 5, let p = count.probability { reasons.append((zs[.countShift] ?? reasonZ, countReason(v, p))) }
        for f in SuspicionFeature.allCases where f != .countShift {
            guard let z = zs[f], z >= reasonZ, let v = e.values[f], let r = cal.features[f] else { continue }
            reasons.append((z, featureReason(f, v, r)))
        }
        if ladder.status == .inconsistent { reasons.append((cal.ladderTerm, ladderReason(ladder))) }
        return SuspicionReport(value: value, scale: .normalDeviation, terms: terms, evidence: e, lumbarCount: count,
                               junction: junction, reasons: reasons.sorted { $0.0 > $1.0 }.map(\.1))
    }

    static func lumbarCount(_ e: SuspicionEvidence, ladder: LadderCheck) -> LumbarCount {
        if !e.thoracolumbarInView {
            return LumbarCount(value: nil, probability: nil, undeterminedBecause: "the thoracolumbar junction (T12/L1 and the level above it) is not in view")
        }
        if !e.sacrumInView {
            return LumbarCount(value: nil, probability: nil, undeterminedBecause: "the sacrum is not found in view")
        }
        if ladder.status == .incomplete {
            return LumbarCount(value: nil, probability: nil, undeterminedBecause: "a disc level is not found: " + ladder.reasons.joined(separator: "; "))
        }
        guard let posterior = e.countPosterior, let best = posterior.max(by: { $0.value < $1.value }) else {
            return LumbarCount(value: 5, probability: nil, undeterminedBecause: nil)
        }
        return LumbarCount(value: best.key, probability: best.value, undeterminedBecause: nil)
    }

    static func countReason(_ count: Int, _ p: Double) -> String {
        "Lumbar count \(count) suspected (probability \(f(p))): the thoracolumbar junction looks like "
            + (count > 5 ? "it lies one disc above" : "it lies one disc below")
            + " the T12/L1 that the ladder counts up from the sacrum. The levels were not renumbered; count the vertebrae from C2 or from the ribs."
    }

    static func ladderReason(_ ladder: LadderCheck) -> String {
        "Level ladder inconsistent: " + ladder.reasons.joined(separator: "; ")
    }

    static func featureReason(_ feature: SuspicionFeature, _ v: Double, _ r: NormalRange) -> String {
        let bound = feature.higherIsSuspicious ? "normal up to \(f(r.median + reasonZ * r.sd))" : "normal from \(f(r.median - reasonZ * r.sd))"
        switch feature {
        case .thoracolumbarEntropy:
            return "Thoracolumbar junction uncertain: the T12/L1 map is spread (entropy \(f(v)) nats; \(bound)); the count from the top does not settle."
        case .l1Entropy:
            return "Thoracolumbar junction uncertain: the L1 body map is spread (entropy \(f(v)) nats; \(bound))."
        case .thoracolumbarOffLevel:
            return "Thoracolumbar junction uncertain: \(f(v)) of the T12/L1 map lies off its disc (\(bound))."
        case .l1OffLevel:
            return "Thoracolumbar junction uncertain: \(f(v)) of the L1 body map lies off its body (\(bound))."
        case .assignmentAmbiguity:
            return "Level assignment uncertain: the level maps lie partly on other structures (sum of off-level shares \(f(v)); \(bound))."
        case .countShift:
            return "The thoracolumbar locator puts T12/L1 on another disc with probability \(f(v)) (\(bound))."
        case .lumbosacralSpan:
            return "Lumbosacral junction narrow: L5 body to sacrum is \(f(v)) of the L4 to L5 body distance (\(bound)); a rudimentary L5/S1 disc is possible."
        case .lowestDiscSpacing:
            return "Lumbosacral junction narrow: the L4/L5 to L5/S1 spacing is \(f(v)) of the L3/L4 to L4/L5 spacing (\(bound))."
        case .lowestDiscExtent:
            return "Lowest disc small: the L5/S1 map is \(f(v)) of the other discs' (\(bound))."
        }
    }

    static func f(_ v: Double) -> String { String(format: "%.2f", v) }
}

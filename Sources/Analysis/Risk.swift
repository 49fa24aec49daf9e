// The entropy-based LSTV risk: a diffuse (high-entropy) L5/S1 map means the network could not settle
// on the lumbosacral disc, which is what a transitional vertebra does to it.

public enum Risk: String, Codable, Sendable, CaseIterable {
    case low, medium, high
}

/// Thresholds on `lstv_suspicion` (for a model without its own calibration that is the reference's
/// L5/S1 entropy in nats, with the reference's defaults). Bounds: `high` when the value > high;
/// `medium` when medium ≤ value ≤ high (both ends inclusive); `low` when value < medium.
/// A non-finite value is `high`: an unusable map must not pass as low risk.
public struct RiskThresholds: Codable, Equatable, Sendable {
    public var high: Double
    public var medium: Double

    public static let `default` = RiskThresholds(high: 5.5, medium: 4.0)

    public init(high: Double = 5.5, medium: Double = 4.0) {
        self.high = high
        self.medium = medium
    }

    /// Nil when the thresholds make sense; else why not (for config validation).
    public var problem: String? {
        guard high.isFinite, medium.isFinite else { return "risk thresholds must be finite" }
        guard medium <= high else { return "risk threshold medium (\(medium)) is above high (\(high))" }
        return nil
    }

    public func classify(_ value: Double) -> Risk {
        if !value.isFinite || value > high { return .high }
        if value >= medium { return .medium }
        return .low
    }
}

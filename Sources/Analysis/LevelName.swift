// The five disc levels the metrics, the risk and the ladder check are about.
// The network may emit more classes (background, landmarks); those are found by name, never by index.

/// A lumbar disc level, superior to inferior. The raw value is the JSON key; `displayName` is the
/// class name the model metadata uses (`"L1/L2"` …), which is how the channel is found.
public enum LevelName: String, CaseIterable, Codable, CodingKeyRepresentable, Comparable, Sendable {
    case l1_l2, l2_l3, l3_l4, l4_l5, l5_s1

    public var displayName: String {
        switch self {
        case .l1_l2: return "L1/L2"
        case .l2_l3: return "L2/L3"
        case .l3_l4: return "L3/L4"
        case .l4_l5: return "L4/L5"
        case .l5_s1: return "L5/S1"
        }
    }

    /// Position on the ladder, 0 = L1/L2 (most superior).
    public var ladderIndex: Int { LevelName.allCases.firstIndex(of: self)! }

    public init?(displayName: String) {
        guard let level = LevelName.allCases.first(where: { $0.displayName == displayName }) else { return nil }
        self = level
    }

    public static func < (a: LevelName, b: LevelName) -> Bool { a.ladderIndex < b.ladderIndex }
}

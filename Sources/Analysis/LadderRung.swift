// The whole counting ladder a level-localizer can report, top to bottom in half steps: the discs
// and the bodies between them, from the T12/L1 disc to the first sacral body. The five lumbar discs
// are the reference metrics' levels (`LevelName`); the other rungs are counting landmarks a model
// may add, found by class name in its metadata. A landmark only feeds the ladder check: it gives
// the check something to count from (the sacrum below, T12/L1 above) that a ladder shifted by one
// level contradicts.

public enum LadderRung: String, CaseIterable, Comparable, Sendable {
    case t12_l1 = "T12/L1", l1 = "L1", l1_l2 = "L1/L2", l2 = "L2", l2_l3 = "L2/L3", l3 = "L3"
    case l3_l4 = "L3/L4", l4 = "L4", l4_l5 = "L4/L5", l5 = "L5", l5_s1 = "L5/S1", s1 = "S1"

    /// The class name in model metadata.
    public var className: String { rawValue }

    /// Half steps from T12/L1: a disc to the next body is one, disc to disc two.
    public var halfStep: Int { LadderRung.allCases.firstIndex(of: self)! }

    /// The lumbar disc level this rung is, if it is one of the five.
    public var level: LevelName? { LevelName(displayName: rawValue) }

    public init(_ level: LevelName) { self.init(rawValue: level.displayName)! }

    /// The rungs that are not one of the five reference levels.
    public static let landmarks: [LadderRung] = allCases.filter { $0.level == nil }

    public static func < (a: LadderRung, b: LadderRung) -> Bool { a.halfStep < b.halfStep }
}

import XCTest
@testable import Analysis

final class RiskTests: XCTestCase {
    func testBoundaries() {
        let t = RiskThresholds.default
        XCTAssertEqual(t.classify(3.999999), .low)
        XCTAssertEqual(t.classify(4.0), .medium)   // inclusive
        XCTAssertEqual(t.classify(5.5), .medium)   // inclusive
        XCTAssertEqual(t.classify(5.500001), .high)
        XCTAssertEqual(t.classify(0), .low)
        XCTAssertEqual(t.classify(.nan), .high)
        XCTAssertEqual(t.classify(.infinity), .high)
        XCTAssertEqual(RiskThresholds(high: 3, medium: 2).classify(2.5), .medium)
        XCTAssertNil(t.problem)
        XCTAssertNotNil(RiskThresholds(high: 3, medium: 4).problem)
    }

    func testCodable() throws {
        let t = try JSONDecoder().decode(RiskThresholds.self, from: Data(#"{"high": 6.0, "medium": 4.5}"#.utf8))
        XCTAssertEqual(t, RiskThresholds(high: 6, medium: 4.5))
        XCTAssertEqual(String(data: try JSONEncoder().encode(Risk.medium), encoding: .utf8), #""medium""#)
    }
}

final class LadderTests: XCTestCase {
    /// A head-up sagittal grid ladder, ~20 px apart, drifting a little in column.
    func grid(_ rows: [Double?]) -> [LevelName: LadderPoint] {
        var out: [LevelName: LadderPoint] = [:]
        for (l, r) in zip(LevelName.allCases, rows) {
            if let r { out[l] = LadderPoint(grid: PixelPoint(row: r, column: 80 - r / 10)) }
        }
        return out
    }

    func testGoodLadder() {
        let c = LevelLadder.check(grid([40, 60, 81, 103, 122]))
        XCTAssertEqual(c.status, .consistent, "\(c.reasons)")
        XCTAssertEqual(c.reasons, [])
        XCTAssertEqual(c.space, .px)
    }

    func testSwappedLevels() {
        let c = LevelLadder.check(grid([40, 81, 60, 103, 122]))
        XCTAssertEqual(c.status, .inconsistent)
        XCTAssertTrue(c.reasons.contains { $0.hasPrefix("L3/L4 is not below L2/L3") }, "\(c.reasons)")
    }

    func testTwoLevelsOnOneDisc() {
        let c = LevelLadder.check(grid([40, 60, 81, 118, 122]))
        XCTAssertEqual(c.status, .inconsistent)
        XCTAssertTrue(c.reasons.contains { $0.contains("L4/L5 and L5/S1") && $0.contains("one disc") }, "\(c.reasons)")
    }

    func testMissingLevel() {
        let c = LevelLadder.check(grid([40, 60, 81, 103, nil]))
        XCTAssertEqual(c.status, .incomplete)
        XCTAssertEqual(c.reasons, ["no point for L5/S1 (no pixel above 0.5)"])
        // A violation among the present levels outranks the missing one.
        XCTAssertEqual(LevelLadder.check(grid([60, 40, 81, 103, nil])).status, .inconsistent)
        XCTAssertEqual(LevelLadder.check([:]).status, .incomplete)
    }

    func testImplausibleSpacing() {
        // L4/L5–L5/S1 gap 45 vs median ~21: 2.1x.
        let c = LevelLadder.check(grid([40, 60, 81, 103, 148]))
        XCTAssertEqual(c.status, .inconsistent)
        XCTAssertTrue(c.reasons.contains { $0.hasPrefix("L4/L5–L5/S1 spacing") }, "\(c.reasons)")
        // Too small but not on one disc: 10 px vs median ~21 → 0.48x.
        let d = LevelLadder.check(grid([40, 60, 81, 103, 113]))
        XCTAssertEqual(d.status, .inconsistent)
        XCTAssertTrue(d.reasons.contains { $0.hasPrefix("L4/L5–L5/S1 spacing") }, "\(d.reasons)")
    }

    /// In mm the order is by LPS z (superior = +z), even when the image is stored feet-up (rows
    /// increasing toward the head), where the grid order would be reversed.
    func testPatientSpaceUsesZ() {
        var pts: [LevelName: LadderPoint] = [:]
        for (i, l) in LevelName.allCases.enumerated() {
            let z = 100.0 - 35.0 * Double(i)
            pts[l] = LadderPoint(grid: PixelPoint(row: 150 - 25 * Double(i), column: 80), patient: [0, 20, z])
        }
        let c = LevelLadder.check(pts)
        XCTAssertEqual(c.space, .mm)
        XCTAssertEqual(c.status, .consistent, "\(c.reasons)")
        // 8 mm apart in patient space: one disc.
        pts[.l5_s1]!.patient = [0, 20, 100.0 - 35.0 * 3 - 8]
        let d = LevelLadder.check(pts)
        XCTAssertEqual(d.status, .inconsistent)
        XCTAssertTrue(d.reasons.contains { $0.contains("mm apart") }, "\(d.reasons)")
    }
}

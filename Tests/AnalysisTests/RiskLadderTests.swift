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

    /// A level whose map sits on two discs: its point lies between them and may even keep the
    /// ladder ordered, but the sites give it away; parts within one disc's thickness are one disc.
    func testOneLevelOnTwoDiscs() {
        let pts = grid([40, 60, 81, 103, 122])
        let onTwo = [LadderPoint(grid: PixelPoint(row: 70, column: 73)), LadderPoint(grid: PixelPoint(row: 92, column: 71))]
        let c = LevelLadder.check(pts, sites: [.l3_l4: onTwo])
        XCTAssertEqual(c.status, .inconsistent)
        XCTAssertEqual(c.reasons, ["L3/L4 is on 2 sites up to 22.1 px apart (≥ 7.0 px): one level on more than one disc, its point between them"])
        let oneDisc = [LadderPoint(grid: PixelPoint(row: 80, column: 70)), LadderPoint(grid: PixelPoint(row: 82, column: 76))]
        XCTAssertEqual(LevelLadder.check(pts, sites: [.l3_l4: oneDisc]).status, .consistent)
        // In mm, with geometry: 20 mm apart is two discs even where the grid distance is small.
        var mm = pts.mapValues { LadderPoint(grid: $0.grid, patient: [0, 0, -$0.grid.row * 1.6]) }
        mm[.l3_l4]!.patient = [0, 0, -81 * 1.6]
        let far = [LadderPoint(grid: PixelPoint(row: 80, column: 70), patient: [0, 0, -120]),
                   LadderPoint(grid: PixelPoint(row: 82, column: 70), patient: [0, 0, -140])]
        let d = LevelLadder.check(mm, sites: [.l3_l4: far])
        XCTAssertEqual(d.space, .mm)
        XCTAssertTrue(d.reasons.contains { $0.hasPrefix("L3/L4 is on 2 sites up to 20.0 mm apart") }, "\(d.reasons)")
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

    // MARK: the whole ladder with counting landmarks (T12/L1, bodies, S1)

    /// Every rung at `row0 + 10 px` per half step; `shift` moves the five discs (not the landmarks).
    func rungs(shiftDiscsBy shift: Double = 0, drop: Set<LadderRung> = []) -> ([LevelName: LadderPoint], [LadderRung: LadderPoint]) {
        var discs: [LevelName: LadderPoint] = [:], landmarks: [LadderRung: LadderPoint] = [:]
        for rung in LadderRung.allCases where !drop.contains(rung) {
            let row = 20 + 10 * Double(rung.halfStep)
            if let level = rung.level {
                discs[level] = LadderPoint(grid: PixelPoint(row: row + shift, column: 80))
            } else {
                landmarks[rung] = LadderPoint(grid: PixelPoint(row: row, column: 80))
            }
        }
        return (discs, landmarks)
    }

    func testWholeLadderConsistent() {
        let (d, l) = rungs()
        XCTAssertEqual(LadderRung.landmarks.map(\.className), ["T12/L1", "L1", "L2", "L3", "L4", "L5", "S1"])
        let c = LevelLadder.check(d, landmarks: l)
        XCTAssertEqual(c.status, .consistent, "\(c.reasons)")
        // A landmark the network did not find (the field of view ends above the sacrum) is skipped over.
        let (d2, l2) = rungs(drop: [.s1, .l3])
        XCTAssertEqual(LevelLadder.check(d2, landmarks: l2).status, .consistent)
    }

    /// The failure that matters: the five discs labelled one level up (each on the disc above) form a
    /// perfect disc ladder, but the landmarks that stayed put contradict it.
    func testDiscsShiftedAgainstTheSacrumAreCaught() {
        let (discs, landmarks) = rungs(shiftDiscsBy: -20)
        XCTAssertEqual(LevelLadder.check(discs).status, .consistent, "discs alone cannot see a shift")
        let c = LevelLadder.check(discs, landmarks: landmarks)
        XCTAssertEqual(c.status, .inconsistent)
        XCTAssertTrue(c.reasons.contains { $0.hasPrefix("landmark ladder: L5/S1–S1 is 3.00x the median half step") }, "\(c.reasons)")
        XCTAssertTrue(c.reasons.contains { $0.hasPrefix("landmark ladder: L1/L2 is not below L1") }, "\(c.reasons)")
    }

    func testLandmarkKeysThatAreDiscsAreIgnored() {
        let (d, l) = rungs()
        var withDisc = l
        withDisc[.l3_l4] = LadderPoint(grid: PixelPoint(row: 0, column: 0))   // the discs come from `points`
        XCTAssertEqual(LevelLadder.check(d, landmarks: withDisc).status, .consistent)
    }
}

final class LandmarkPointTests: XCTestCase {
    func testDecodedByClassName() throws {
        let classes = ["background", "L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1", "S1", "T12/L1", "L9"]
        let rows = 20, columns = 20, plane = rows * columns
        var p = [Float](repeating: 0, count: classes.count * plane)
        p[6 * plane + 15 * columns + 4] = 0.9     // S1 at (15, 4)
        p[6 * plane + 17 * columns + 4] = 0.8     // and (17, 4): mean (16, 4)
        p[7 * plane + 2 * columns + 3] = 0.5      // T12/L1 never above 0.5 (strictly): absent
        let points = try Metrics.landmarkPoints(probabilities: p[...], classes: classes, rows: rows, columns: columns)
        XCTAssertEqual(points, [.s1: PixelPoint(row: 16, column: 4)])
        XCTAssertThrowsError(try Metrics.landmarkPoints(probabilities: [0][...], classes: classes, rows: rows, columns: columns))
    }
}


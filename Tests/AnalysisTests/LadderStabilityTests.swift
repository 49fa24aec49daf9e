import XCTest
@testable import Analysis

final class LadderStabilityTests: XCTestCase {
    func testPerturbationMovesAnatomyWhereUnmapSays() {
        let rows = 40, columns = 40
        var image = [UInt8](repeating: 0, count: rows * columns)
        image[10 * columns + 20] = 255
        XCTAssertEqual(SlicePerturbation().apply(image, rows: rows, columns: columns), image, "identity")

        for p in [SlicePerturbation(scale: 0.8), SlicePerturbation(rowShift: 6), SlicePerturbation(scale: 1.25, rowShift: -3)] {
            let out = p.apply(image, rows: rows, columns: columns)
            // The brightest output pixel, mapped back, is the bright input pixel (within the blur of one pixel).
            let k = out.indices.max { out[$0] < out[$1] }!
            let back = p.unmap(PixelPoint(row: Double(k / columns), column: Double(k % columns)), rows: rows, columns: columns)
            XCTAssertEqual(back.row, 10, accuracy: 1.0, "\(p)")
            XCTAssertEqual(back.column, 20, accuracy: 1.0, "\(p)")
        }
        // Zoomed out, the border outside the original is black (BORDER_CONSTANT 0).
        let grey = [UInt8](repeating: 100, count: rows * columns)
        let small = SlicePerturbation(scale: 0.5).apply(grey, rows: rows, columns: columns)
        XCTAssertEqual(small[0], 0)
        XCTAssertEqual(small[20 * columns + 20], 100)
        XCTAssertEqual(SlicePerturbation.standard.count, 6)
        XCTAssertEqual(SlicePerturbation(scale: 0.8, rowShift: -16).description, "zoomed 0.8x and moved 16 px up")
    }

    /// Discs 20 px apart; a perturbed pass that puts L5/S1 on the L4/L5 disc is a jump, small moves are not.
    func testAJumpToAnotherDiscIsAViolation() {
        var base: [LevelName: PixelPoint] = [:]
        for (i, l) in LevelName.allCases.enumerated() { base[l] = PixelPoint(row: 40 + 20 * Double(i), column: 80) }
        let up = SlicePerturbation(rowShift: -16)
        var moved = base.mapValues { PixelPoint(row: $0.row - 16 + 2, column: $0.column) }   // 2 px off after unmapping
        XCTAssertEqual(LadderStability.violations(base: base, perturbed: [(up, moved)], rows: 160, columns: 160), [])
        moved[.l5_s1] = PixelPoint(row: base[.l4_l5]!.row - 16, column: 80)                    // on L4/L5
        moved[.l1_l2] = nil                                                                     // missing: not judged here
        let v = LadderStability.violations(base: base, perturbed: [(up, moved)], rows: 160, columns: 160)
        XCTAssertEqual(v, ["unstable count: L5/S1 moves 1.00x the disc spacing when the slice is moved 16 px up"])

        let check = LevelLadder.check(base.mapValues { LadderPoint(grid: $0) })
        XCTAssertEqual(check.status, .consistent)
        let merged = check.adding(violations: v)
        XCTAssertEqual(merged.status, .inconsistent)
        XCTAssertEqual(merged.reasons, v)
        XCTAssertEqual(check.adding(violations: []), check)
        // Missing-level reasons stay last.
        var partial = base.mapValues { LadderPoint(grid: $0) }
        partial[.l1_l2] = nil
        let p = LevelLadder.check(partial).adding(violations: v)
        XCTAssertEqual(p.reasons.last, "no point for L1/L2 (no pixel above 0.5)")
        XCTAssertEqual(p.status, .inconsistent)
    }
}

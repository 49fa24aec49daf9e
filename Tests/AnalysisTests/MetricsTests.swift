import Foundation
import XCTest
@testable import Analysis

final class MetricsTests: XCTestCase {
    /// Sharp … diffuse Gaussian softmax maps: metrics within 1e-4 of reference.py (float64), points
    /// included, and the diffuse L5/S1 (no pixel > 0.5) gives no point.
    func testMatchesReference() throws {
        let p = try Fixtures.manifest().probs
        let probs = try Fixtures.float16LE(p.file)
        let got = try Metrics.levels(probabilities: probs[...], classes: p.classes, rows: p.rows, columns: p.cols)
        XCTAssertEqual(got.count, 5)
        for level in LevelName.allCases {
            let e = try XCTUnwrap(p.metrics[level.displayName])
            let g = try XCTUnwrap(got[level])
            XCTAssertEqual(g.peakConfidence, e.peak_confidence, accuracy: 1e-4, "\(level)")
            XCTAssertEqual(g.entropy, e.entropy, accuracy: 1e-4, "\(level)")
            XCTAssertEqual(g.spatialEntropy, e.spatial_entropy, accuracy: 1e-4, "\(level)")
            if let ep = e.point {
                let gp = try XCTUnwrap(g.point, "\(level)")
                XCTAssertEqual(gp.row, ep[0], accuracy: 1e-4)
                XCTAssertEqual(gp.column, ep[1], accuracy: 1e-4)
            } else {
                XCTAssertNil(g.point, "\(level)")
            }
        }
        XCTAssertNil(got[.l5_s1]!.point)
        XCTAssertEqual(RiskThresholds.default.classify(got[.l5_s1]!.entropy).rawValue, p.risk)
        // Measured concurrently (analysis threads > 1) the numbers are the same to the bit.
        let concurrent = try Metrics.levels(probabilities: probs[...], classes: p.classes, rows: p.rows, columns: p.cols, threads: 2)
        XCTAssertEqual(concurrent, got)
        XCTAssertEqual(try Metrics.discSites(probabilities: probs[...], classes: p.classes, rows: p.rows, columns: p.cols, threads: 2),
                       try Metrics.discSites(probabilities: probs[...], classes: p.classes, rows: p.rows, columns: p.cols))
        // And a missing class is still an error, not a hole in the result.
        XCTAssertThrowsError(try Metrics.levels(probabilities: probs[...], classes: p.classes.map { $0 == "L5/S1" ? "other" : $0 },
                                                rows: p.rows, columns: p.cols, threads: 2))
    }

    /// Channels are found by name: landmark classes after the discs and a shuffled order change nothing.
    func testFindsChannelsByName() throws {
        let p = try Fixtures.manifest().probs
        let probs = try Fixtures.float16LE(p.file)
        let plane = p.rows * p.cols
        let order = [0, 5, 3, 1, 2, 4]  // new channel k holds old channel order[k]
        var shuffled = [Float]()
        for k in order { shuffled += probs[(k * plane)..<((k + 1) * plane)] }
        shuffled += [Float](repeating: 0.01, count: plane)  // an extra landmark class
        let classes = order.map { p.classes[$0] } + ["S1"]
        let a = try Metrics.levels(probabilities: probs[...], classes: p.classes, rows: p.rows, columns: p.cols)
        let b = try Metrics.levels(probabilities: shuffled[...], classes: classes, rows: p.rows, columns: p.cols)
        XCTAssertEqual(a, b)
        // An image of a batch output is read in place: the second image of a batch of two.
        let batch = shuffled + probs + [Float](repeating: 0.01, count: plane)
        let second = batch[shuffled.count...]
        XCTAssertEqual(try Metrics.levels(probabilities: second, classes: p.classes + ["S1"], rows: p.rows, columns: p.cols), a)
        XCTAssertThrowsError(try Metrics.levels(probabilities: batch[...], classes: classes, rows: p.rows, columns: p.cols))
        XCTAssertThrowsError(try Metrics.levels(probabilities: probs[...], classes: ["background", "L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5-S1"],
                                                rows: p.rows, columns: p.cols)) {
            XCTAssertEqual($0 as? MetricsError, .missingClass("L5/S1"))
        }
    }

    func testAnalyticCases() throws {
        // Uniform map: p = 1/N everywhere, entropy -log(1/N + 1e-9) (the ε inside the log shifts it by
        // ~2.6e-5 from log N at N = 25600), spatial over 100 bins; no point (0.3 < 0.5).
        let uniform = [Float](repeating: 0.3, count: 160 * 160)
        let u = try Metrics.level(uniform, rows: 160, columns: 160)
        XCTAssertEqual(u.entropy, -log(1 / 25600.0 + 1e-9), accuracy: 1e-9)
        XCTAssertEqual(u.spatialEntropy, -log(1 / 100.0 + 1e-9), accuracy: 1e-9)
        XCTAssertEqual(u.peakConfidence, Double(Float(0.3)), accuracy: 1e-12)
        XCTAssertNil(u.point)
        // One hot pixel: entropy ~0; point is that pixel; exactly 0.5 elsewhere does not count.
        var hot = [Float](repeating: 0, count: 160 * 160)
        hot[37 * 160 + 101] = 0.9
        hot[3 * 160 + 3] = 0.5
        let h = try Metrics.level(hot, rows: 160, columns: 160)
        XCTAssertEqual(h.point, PixelPoint(row: 37, column: 101))
        XCTAssertGreaterThan(h.entropy, 0.5)  // two pixels share the mass
        hot[3 * 160 + 3] = 0
        XCTAssertEqual(try Metrics.level(hot, rows: 160, columns: 160).entropy, 0, accuracy: 1e-6)
        // All zero: entropy 0, peak 0, no point.
        let z = try Metrics.level([Float](repeating: 0, count: 100), rows: 10, columns: 10)
        XCTAssertEqual(z.entropy, 0)
        XCTAssertEqual(z.peakConfidence, 0)
        XCTAssertNil(z.point)
    }

    /// A map on two discs has its point between them; `sites` names both parts, largest first. A
    /// fringe under a quarter of the largest part is not a site, and 8-neighbours never join across
    /// the right edge onto the next row.
    func testSitesAreTheConnectedParts() throws {
        let rows = 40, columns = 20
        func map(_ blocks: [(row: Int, column: Int, side: Int)]) -> [Float] {
            var h = [Float](repeating: 0, count: rows * columns)
            for b in blocks { for r in b.row..<(b.row + b.side) { for c in b.column..<(b.column + b.side) { h[r * columns + c] = 0.9 } } }
            return h
        }
        let twoBlobs = map([(5, 5, 3), (25, 6, 2)])
        XCTAssertEqual(Metrics.sites(twoBlobs, rows: rows, columns: columns), [PixelPoint(row: 6, column: 6), PixelPoint(row: 25.5, column: 6.5)])
        XCTAssertEqual(try Metrics.level(twoBlobs, rows: rows, columns: columns).point!.row, (9 * 6 + 4 * 25.5) / 13,
                       accuracy: 1e-12, "the reference point is the mean of both")
        XCTAssertEqual(Metrics.sites(map([(5, 5, 3), (25, 6, 1)]), rows: rows, columns: columns), [PixelPoint(row: 6, column: 6)])   // 1 < 9/4
        XCTAssertEqual(Metrics.sites(map([(5, 5, 2), (7, 7, 2)]), rows: rows, columns: columns).count, 1, "corner neighbours are one part")
        var edge = [Float](repeating: 0, count: rows * columns)
        edge[10 * columns + columns - 1] = 0.9      // last column of row 10
        edge[11 * columns] = 0.9                    // first column of row 11: adjacent in memory only
        XCTAssertEqual(Metrics.sites(edge, rows: rows, columns: columns).count, 2)
        XCTAssertEqual(Metrics.sites([Float](repeating: 0, count: 100), rows: 10, columns: 10), [])
        // In place on a batch slice (indices not starting at 0).
        let batch = [Float](repeating: 0, count: 7) + twoBlobs
        XCTAssertEqual(Metrics.sites(batch[7...], rows: rows, columns: columns).count, 2)
    }

    func testRejectsBadMaps() {
        XCTAssertThrowsError(try Metrics.level([Float](repeating: 0, count: 15 * 15), rows: 15, columns: 15))
        XCTAssertThrowsError(try Metrics.level([Float](repeating: 0, count: 10), rows: 10, columns: 10))
        var nan = [Float](repeating: 0, count: 100)
        nan[5] = .nan
        XCTAssertThrowsError(try Metrics.level(nan, rows: 10, columns: 10))
    }
}

import XCTest
@testable import Analysis

final class NeighbourSpreadTests: XCTestCase {
    func metrics(_ entropy: Double) -> [LevelName: LevelMetrics] {
        Dictionary(uniqueKeysWithValues: LevelName.allCases.map {
            ($0, LevelMetrics(peakConfidence: 0.9, entropy: entropy, spatialEntropy: 1, point: nil))
        })
    }

    func testSpreadIsTheRMSDistanceFromTheMeanPoint() {
        let px: [[LevelName: PixelPoint]] = [[.l5_s1: PixelPoint(row: 0, column: 0)], [.l5_s1: PixelPoint(row: 0, column: 2)], [:]]
        let s = NeighbourSpread.summarise(sliceIndices: [1, 0, 2], metrics: [metrics(1), metrics(3), metrics(2)],
                                          pointsPx: px, pointsMm: nil)
        XCTAssertEqual(s.unit, "px")
        let l5 = s.levels[.l5_s1]!
        XCTAssertEqual(l5.foundIn, 2)
        XCTAssertEqual(l5.pointSpread!, 1, accuracy: 1e-12)
        XCTAssertEqual(l5.entropyMean, 2, accuracy: 1e-12)
        XCTAssertEqual(l5.entropyStd, (2.0 / 3).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(l5.entropyRange, 2, accuracy: 1e-12)
        XCTAssertNil(s.levels[.l1_l2]!.pointSpread, "no point on any slice")
        XCTAssertEqual(s.levels[.l1_l2]!.foundIn, 0)
    }

    func testMillimetresWhenGeometryIsKnown() {
        let px: [[LevelName: PixelPoint]] = [[.l1_l2: PixelPoint(row: 0, column: 0)], [.l1_l2: PixelPoint(row: 0, column: 0)]]
        let mm: [[LevelName: SIMD3<Double>]] = [[.l1_l2: SIMD3(0, 0, 0)], [.l1_l2: SIMD3(6, 0, 8)]]
        let s = NeighbourSpread.summarise(sliceIndices: [0, 1], metrics: [metrics(1), metrics(1)], pointsPx: px, pointsMm: mm)
        XCTAssertEqual(s.unit, "mm")
        XCTAssertEqual(s.levels[.l1_l2]!.pointSpread!, 5, accuracy: 1e-12)
        XCTAssertEqual(s.levels[.l1_l2]!.entropyStd, 0)
    }
}

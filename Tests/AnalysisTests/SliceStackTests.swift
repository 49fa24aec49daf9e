import XCTest
@testable import Analysis

final class SliceStackTests: XCTestCase {
    let sagittal = ImageOrientation(row: [0, 1, 0], column: [0, 0, -1])  // normal (-1, 0, 0)

    func make(_ uid: String, x: Double?, n: Int?, rows: Int = 2, cols: Int = 2, iop: ImageOrientation? = nil) -> SourceSlice {
        SourceSlice(pixels: [Float](repeating: 0, count: rows * cols), rows: rows, columns: cols,
                    imagePositionPatient: x.map { [$0, 0, 0] }, imageOrientationPatient: x == nil ? nil : (iop ?? sagittal),
                    pixelSpacing: PixelSpacing(row: 1, column: 1), instanceNumber: n, sopInstanceUID: uid)
    }

    /// Ascending IPP · normal: with normal (-1,0,0), larger x comes first, whatever the instance numbers.
    func testOrdersAlongNormal() throws {
        let s = try SliceStack([make("a", x: 0, n: 1), make("b", x: 2, n: 2), make("c", x: 1, n: 3)])
        XCTAssertEqual(s.ordering, .slicePosition)
        XCTAssertEqual(s.slices.map(\.sopInstanceUID), ["b", "c", "a"])
        XCTAssertEqual(s.middleIndex, 1)
    }

    func testFallsBackToInstanceNumber() throws {
        let s = try SliceStack([make("a", x: nil, n: 3), make("b", x: nil, n: 1), make("c", x: nil, n: 2)])
        XCTAssertEqual(s.ordering, .instanceNumber)
        XCTAssertEqual(s.slices.map(\.sopInstanceUID), ["b", "c", "a"])
        // Duplicate positions: instance numbers decide.
        let d = try SliceStack([make("a", x: 1, n: 2), make("b", x: 1, n: 1)])
        XCTAssertEqual(d.ordering, .instanceNumber)
        XCTAssertEqual(d.slices.map(\.sopInstanceUID), ["b", "a"])
    }

    func testEvenCountMiddleIsUpperHalf() throws {
        let s = try SliceStack((0..<4).map { (i: Int) in make("s\(i)", x: nil, n: i) })
        XCTAssertEqual(s.middle.sopInstanceUID, "s2")  // volume[4 // 2]
    }

    func testRejectsMixedSizesAndOrientations() {
        XCTAssertThrowsError(try SliceStack([make("a", x: 0, n: 1), make("b", x: 1, n: 2, rows: 3)])) { e in
            guard case SliceStackError.mixedSizes = e else { return XCTFail("\(e)") }
        }
        let axial = ImageOrientation(row: [1, 0, 0], column: [0, 1, 0])
        XCTAssertThrowsError(try SliceStack([make("a", x: 0, n: 1), make("b", x: 1, n: 2, iop: axial)])) { e in
            guard case SliceStackError.mixedOrientations = e else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try SliceStack([])) { XCTAssertEqual($0 as? SliceStackError, .empty) }
        var bad = make("a", x: 0, n: 1)
        bad.pixels = [0]
        XCTAssertThrowsError(try SliceStack([bad]))
    }
}

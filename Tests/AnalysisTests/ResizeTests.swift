import XCTest
@testable import Analysis

final class ResizeTests: XCTestCase {
    /// Every fixture size (221, 381, 256, 512, 640, 100, 320 → 160, non-square, 1-row, non-160
    /// destinations) equals cv2.resize(INTER_LINEAR) pixel for pixel.
    func testBitExactWithOpenCV() throws {
        let m = try Fixtures.manifest()
        XCTAssertGreaterThanOrEqual(m.resize.count, 10)
        for c in m.resize {
            let src = Fixtures.sourceImage(seed: c.seed, count: c.rows * c.cols, kind: c.kind)
            XCTAssertEqual(src.reduce(UInt64(0)) { $0 + UInt64($1) }, c.source_checksum, "PRNG drifted for \(c.file)")
            let expected = try Fixtures.bytes(c.file)
            let got = resizeBilinearLikeOpenCV(src, srcRows: c.rows, srcCols: c.cols, dstRows: c.dst_rows, dstCols: c.dst_cols)
            XCTAssertEqual(got.count, expected.count)
            let diffs = zip(got, expected).filter { $0 != $1 }.count
            XCTAssertEqual(diffs, 0, "\(c.file): \(diffs) pixels differ from cv2")
        }
    }

    /// A plain bilinear (float, rounded) is NOT what cv2 does; make sure the test would notice one.
    func testNaiveBilinearWouldFail() throws {
        let m = try Fixtures.manifest()
        let c = try XCTUnwrap(m.resize.first { $0.rows == 221 && $0.cols == 221 })
        let src = Fixtures.sourceImage(seed: c.seed, count: c.rows * c.cols, kind: c.kind)
        let expected = try Fixtures.bytes(c.file)
        var naive = [UInt8](repeating: 0, count: 160 * 160)
        let s = 221.0 / 160.0
        for r in 0..<160 {
            for col in 0..<160 {
                let y = max(0, (Double(r) + 0.5) * s - 0.5), x = max(0, (Double(col) + 0.5) * s - 0.5)
                let y0 = min(Int(y), 220), x0 = min(Int(x), 220)
                let y1 = min(y0 + 1, 220), x1 = min(x0 + 1, 220)
                let fy = y - Double(y0), fx = x - Double(x0)
                func p(_ a: Int, _ b: Int) -> Double { Double(src[a * 221 + b]) }
                let v = (p(y0, x0) * (1 - fx) + p(y0, x1) * fx) * (1 - fy) + (p(y1, x0) * (1 - fx) + p(y1, x1) * fx) * fy
                naive[r * 160 + col] = UInt8(v.rounded())
            }
        }
        XCTAssertGreaterThan(zip(naive, expected).filter { $0 != $1 }.count, 100)
    }

    func testIdentityAndConstant() {
        let img: [UInt8] = (0..<(7 * 5)).map { UInt8($0 * 7) }
        XCTAssertEqual(resizeBilinearLikeOpenCV(img, srcRows: 7, srcCols: 5, dstRows: 7, dstCols: 5), img)
        let flat = [UInt8](repeating: 255, count: 33 * 17)
        XCTAssertEqual(Set(resizeBilinearLikeOpenCV(flat, srcRows: 33, srcCols: 17, dstRows: 160, dstCols: 160)), [255])
    }
}

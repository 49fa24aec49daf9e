import XCTest
@testable import Analysis

final class PreprocessTests: XCTestCase {
    /// uint16 volume: numpy promotes to float64; every voxel must match, with the whole-volume range.
    func testMinMaxUInt16MatchesNumpy() throws {
        let m = try Fixtures.manifest().minmax
        let v = try Fixtures.uint16LE(m.u16_in).map(Float.init)
        let expected = try Fixtures.bytes(m.u16_out)
        let plane = m.shape[1] * m.shape[2]
        let slices = (0..<m.shape[0]).map { Array(v[($0 * plane)..<(($0 + 1) * plane)]) }
        let range = IntensityRange(of: slices)
        XCTAssertEqual(range, IntensityRange(min: 37, max: 3999))
        let got = slices.flatMap { Preprocess.scaleTo8Bit($0, range: range) }
        XCTAssertEqual(got, expected)
        XCTAssertEqual(got.max(), 255)
        XCTAssertEqual(got.min(), 0)
    }

    /// float32 volume: numpy stays in float32; float64 arithmetic differs on some voxels, and the
    /// option chooses which one to reproduce.
    func testMinMaxFloat32BothArithmetics() throws {
        let m = try Fixtures.manifest().minmax
        let v = try Fixtures.float32LE(m.f32_in)
        let range = IntensityRange(of: [v])
        XCTAssertEqual(Preprocess.scaleTo8Bit(v, range: range, arithmetic: .float32), try Fixtures.bytes(m.f32_out_float32))
        XCTAssertEqual(Preprocess.scaleTo8Bit(v, range: range, arithmetic: .float64), try Fixtures.bytes(m.f32_out_float64))
    }

    func testConstantVolumeIsZeroNotNaN() {
        let range = IntensityRange(of: [[Float](repeating: 7, count: 4), [Float](repeating: 7, count: 4)])
        XCTAssertEqual(Preprocess.scaleTo8Bit([7, 7, 7, 7], range: range), [0, 0, 0, 0])
    }

    func testTruncatesTowardZero() {
        // (v - 0) / 2 * 255: 1 → 127.5 → 127, 2 → 255.
        XCTAssertEqual(Preprocess.scaleTo8Bit([0, 1, 2], range: IntensityRange(min: 0, max: 2)), [0, 127, 255])
    }

    /// Real series FCS-IVD-11 T2 sagittal: the raw middle slice scaled with the whole-volume range and
    /// resized must equal reference.py's 160x160 (DICOM reading itself is the DICOM module's and is
    /// not exercised here).
    func testRealMiddleSliceMatchesReference() throws {
        guard let r = try Fixtures.manifest().real else { throw XCTSkip("real-series fixture not generated") }
        let raw = try Fixtures.uint16LE(r.raw).map(Float.init)
        XCTAssertEqual(raw.count, r.rows * r.cols)
        let u8 = Preprocess.scaleTo8Bit(raw, range: IntensityRange(min: Float(r.volume_min), max: Float(r.volume_max)))
        let got = resizeBilinearLikeOpenCV(u8, srcRows: r.rows, srcCols: r.cols, dstRows: 160, dstCols: 160)
        XCTAssertEqual(got, try Fixtures.bytes(r.expected_160))
        XCTAssertEqual(r.middle_index, r.slices / 2)
    }

    func testMiddleSliceOfStack() throws {
        // Three 2x2 slices given out of order; the middle (by position) holds the volume's max.
        let iop = ImageOrientation(row: [0, 1, 0], column: [0, 0, -1])  // sagittal, normal = (-1, 0, 0)
        func slice(_ x: Double, _ v: [Float], _ n: Int) -> SourceSlice {
            SourceSlice(pixels: v, rows: 2, columns: 2, imagePositionPatient: [x, 0, 0],
                        imageOrientationPatient: iop, pixelSpacing: PixelSpacing(row: 1, column: 1),
                        instanceNumber: n, sopInstanceUID: "s\(n)")
        }
        let stack = try SliceStack([slice(0, [0, 0, 0, 0], 1), slice(2, [10, 10, 10, 10], 3), slice(1, [5, 20, 5, 5], 2)])
        XCTAssertEqual(stack.middle.sopInstanceUID, "s2")
        let out = Preprocess.middleSlice(of: stack, rows: 2, columns: 2)
        XCTAssertEqual(out, [63, 255, 63, 63])  // (5-0)/20*255 = 63.75 → 63
    }

    func testNetworkInput() throws {
        let norm = InputNormalization(scale: 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
        let x = try Preprocess.networkInput([0, 255, 128], normalization: norm, channels: 3)
        XCTAssertEqual(x.count, 9)
        for c in 0..<3 {
            for (i, p) in [0, 255, 128].enumerated() {
                let expected = (Float(p) / 255 - norm.mean[c]) / norm.std[c]
                XCTAssertEqual(x[c * 3 + i], expected)
            }
        }
        XCTAssertThrowsError(try Preprocess.networkInput([0], normalization: InputNormalization(mean: [0], std: [1]), channels: 3))
    }
}

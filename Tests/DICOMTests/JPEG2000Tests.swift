import DICOM
import Foundation
import TestSupport
import XCTest

/// JPEG 2000 and HTJ2K, which DCMTK 3.6.7 cannot decode, decoded through OpenJPEG: copies of a real
/// slice made by independent encoders (opj_compress, ojph_compress; tests/integration/jpeg2000.py)
/// decode to the original pixels when lossless and to within the encoder's error when lossy.
final class JPEG2000Tests: XCTestCase {
    static let encoder = TestData.repository.appendingPathComponent("tests/integration/jpeg2000.py").path
    var sagittalSlice: String { DicomDatasetTests.study.appendingPathComponent("01_T2_TSE_SAG/IM0034.dcm").path }

    func encoded(_ kind: String, in dir: String) throws -> DicomDataset {
        let out = dir + "/\(kind).dcm"
        let made = try Fixture.run(Fixture.python, [Self.encoder, kind, sagittalSlice, out])
        XCTAssertEqual(made.status, 0, "\(kind): \(made.stderr)")
        return try DicomDataset(path: out, headerOnly: true)
    }

    func testLosslessJPEG2000AndHTJ2KDecodeToTheOriginalPixels() throws {
        let dir = try Fixture.tempDir()
        let reference = try DicomDataset(path: sagittalSlice, headerOnly: false).decodeFrame()
        XCTAssertGreaterThan(Set(reference).count, 100, "a real image has many grey levels")
        for (kind, syntax) in [("j2k-lossless", TransferSyntax.jpeg2000Lossless),
                               ("htj2k-lossless", TransferSyntax.htj2kLossless)] {
            let ds = try encoded(kind, in: dir)
            XCTAssertEqual(ds.text(.transferSyntaxUID), syntax, kind)
            XCTAssertEqual(try ds.decodeFrame(), reference, kind)
        }
    }

    /// Lossy: not the original, but what the encoder's own decoder (opj_decompress; ojph_expand, an
    /// independent implementation of HTJ2K) makes of the same codestream, to within 1: the rounding
    /// of the irreversible 9/7 wavelet's floating-point arithmetic may differ between implementations.
    func testLossyJPEG2000AndHTJ2KDecodeAsTheEncodersDecoderDoes() throws {
        let dir = try Fixture.tempDir()
        let original = try DicomDataset(path: sagittalSlice, headerOnly: false).decodeFrame()
        for (kind, syntax) in [("j2k-lossy", TransferSyntax.jpeg2000), ("htj2k-lossy", TransferSyntax.htj2k)] {
            let ds = try encoded(kind, in: dir)
            XCTAssertEqual(ds.text(.transferSyntaxUID), syntax, kind)
            let decoded = try ds.decodeFrame()
            let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/\(kind).dcm.reference"))
            let reference = stride(from: 0, to: bytes.count, by: 2).map { Float(UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8) }
            XCTAssertEqual(decoded.count, reference.count, kind)
            XCTAssertNotEqual(decoded, original, "\(kind) is lossy: some pixel must differ from the original")
            let largest = zip(decoded, reference).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(largest, 1, "\(kind): decoded pixels against \(kind)'s reference decoder")
        }
    }

    func testCorruptCodestreamIsAnErrorNotACrash() throws {
        let dir = try Fixture.tempDir()
        XCTAssertEqual(try encoded("j2k-lossless", in: dir).text(.transferSyntaxUID), TransferSyntax.jpeg2000Lossless)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/j2k-lossless.dcm"))
        // Garbage over the codestream's main header (SIZ, COD): its marker lengths and sizes.
        let soc = try XCTUnwrap(bytes.range(of: Data([0xff, 0x4f, 0xff, 0x51]))).lowerBound
        for i in (soc + 4)..<(soc + 64) { bytes[i] = 0xff }
        let corrupt = dir + "/corrupt.dcm"
        try bytes.write(to: URL(fileURLWithPath: corrupt))
        let ds = try DicomDataset(path: corrupt, headerOnly: true)
        XCTAssertThrowsError(try ds.decodeFrame()) { XCTAssertTrue("\($0)".contains("JPEG 2000"), "\($0)") }
    }
}

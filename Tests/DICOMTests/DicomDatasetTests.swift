import DICOM
import Foundation
import XCTest

/// Reads the real shared studies, and checks that every compressed transfer syntax the listener
/// accepts decodes to exactly the pixels of the uncompressed original (DCMTK's own encoders make
/// the compressed copies).
final class DicomDatasetTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let study = repo.appendingPathComponent("../shared/data/lumbar/dicom/FCS-IVD-11").standardizedFileURL

    var sagittalSlice: String { Self.study.appendingPathComponent("01_T2_TSE_SAG/IM0034.dcm").path }

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: sagittalSlice) else {
            XCTFail("shared data missing at \(Self.study.path): the repository must sit beside shared/")
            throw DICOMError("no shared data")
        }
    }

    func testReadsAttributesOfARealInstance() throws {
        let ds = try DicomDataset(path: sagittalSlice)
        XCTAssertEqual(ds.text(.sopClassUID), SOPClass.mrImageStorage)
        XCTAssertEqual(ds.text(.modality), "MR")
        XCTAssertEqual(ds.text(.seriesDescription), "T2_TSE_SAG")
        XCTAssertEqual(ds.doubles(.imageOrientationPatient), [0, 1, 0, 0, 0, -1])
        XCTAssertEqual(ds.doubles(.pixelSpacing), [1, 1])
        XCTAssertEqual(ds.text(.transferSyntaxUID), TransferSyntax.explicitVRLittleEndian)
        XCTAssertTrue(UID.isValid(try XCTUnwrap(ds.text(.seriesInstanceUID))))
        XCTAssertNil(ds.text(.echoTime))
        let info = ds.imageInfo
        XCTAssertEqual([info.frames, info.rows, info.columns, info.samplesPerPixel], [1, 221, 221, 1])
    }

    func testGarbageAndTruncatedFilesAreErrorsNotCrashes() throws {
        let dir = NSTemporaryDirectory() + "/dicomtests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let garbage = dir + "/garbage.dcm"
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: URL(fileURLWithPath: garbage))
        XCTAssertThrowsError(try DicomDataset(path: garbage))
        let original = try Data(contentsOf: URL(fileURLWithPath: sagittalSlice))
        let truncated = dir + "/truncated.dcm"
        try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: truncated))
        XCTAssertThrowsError(try DicomDataset(path: truncated)) { XCTAssertTrue("\($0)".contains("cannot read DICOM file")) }
        XCTAssertThrowsError(try DicomDataset(path: dir + "/missing.dcm"))
    }

    /// A small file whose header declares far more pixels than its native pixel data holds is no
    /// image, so that no caller sizes a decode buffer from it (65535 x 65535 floats are 17 GB,
    /// allocated before the decode found the data short); also when SamplesPerPixel is 0 and
    /// BitsAllocated missing. The dataset fuzz harness, which sizes its
    /// buffers as the node does, ran out of memory on such a file.
    func testDimensionsBeyondThePixelDataAreNoImage() throws {
        let dir = NSTemporaryDirectory() + "/dicomtests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let edits: [(String, [String])] = [
            ("huge.dcm", ["-m", "(0028,0010)=65535", "-m", "(0028,0011)=65535"]),
            ("huge-no-sizes.dcm", ["-m", "(0028,0010)=65535", "-m", "(0028,0011)=65535", "-m", "(0028,0002)=0",
                                   "-e", "(0028,0100)"]),
        ]
        for (name, edit) in edits {
            let path = dir + "/" + name
            try FileManager.default.copyItem(atPath: sagittalSlice, toPath: path)
            let modified = try Fixture.run("/usr/bin/dcmodify", ["-nb"] + edit + [path])
            XCTAssertEqual(modified.status, 0, "dcmodify: \(modified.stderr)")
            let ds = try DicomDataset(path: path, headerOnly: false)
            XCTAssertEqual(ds.text(.rows), "65535", name)
            let info = ds.imageInfo
            XCTAssertEqual([info.frames, info.rows, info.columns], [0, 0, 0], name)
            XCTAssertThrowsError(try ds.decodeFrame(), name) { XCTAssertTrue("\($0)".contains("no pixel data"), "\($0)") }
        }
    }

    func testEveryAcceptedCompressionDecodesToTheOriginalPixels() throws {
        let dir = NSTemporaryDirectory() + "/dicomtests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let reference = try DicomDataset(path: sagittalSlice, headerOnly: false).decodeFrame()
        XCTAssertEqual(reference.count, 221 * 221)
        XCTAssertGreaterThan(Set(reference).count, 100, "a real image has many grey levels")

        // (tool, arguments, expected transfer syntax): all lossless.
        let conversions: [(String, [String], String)] = [
            ("dcmconv", ["+ti"], TransferSyntax.implicitVRLittleEndian),
            ("dcmconv", ["+tb"], TransferSyntax.explicitVRBigEndian),
            ("dcmconv", ["+td"], TransferSyntax.deflatedExplicitVRLittleEndian),
            ("dcmcrle", [], TransferSyntax.rleLossless),
            ("dcmcjpls", ["+el"], TransferSyntax.jpegLSLossless),
            ("dcmcjpeg", ["+e1"], TransferSyntax.jpegLosslessSV1),
            ("dcmcjpeg", ["+el"], TransferSyntax.jpegLossless),
        ]
        for (tool, args, syntax) in conversions {
            let out = dir + "/\(tool)-\(args.joined()).dcm"
            let converted = try Fixture.run("/usr/bin/" + tool, args + [sagittalSlice, out])
            XCTAssertEqual(converted.status, 0, "\(tool) \(args): \(converted.stderr)")
            let ds = try DicomDataset(path: out, headerOnly: true)
            XCTAssertEqual(ds.text(.transferSyntaxUID), syntax, tool)
            XCTAssertEqual(try ds.decodeFrame(), reference, "\(tool) \(args)")
        }
    }

}

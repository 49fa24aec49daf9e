import DICOM
import Foundation
import XCTest

final class SecondaryCaptureTests: XCTestCase {
    func testGradientKeyImageValidatesAndReadsBackExactly() throws {
        let files = try Fixture.seriesFiles()
        let dir = try Fixture.tempDir()
        let rows = 37, columns = 53  // odd sizes: odd pixel data length gets padded, values must not change
        var rgb = [UInt8](repeating: 0, count: rows * columns * 3)
        for r in 0..<rows {
            for c in 0..<columns {
                let i = (r * columns + c) * 3
                rgb[i] = UInt8(r * 255 / (rows - 1))
                rgb[i + 1] = UInt8(c * 255 / (columns - 1))
                rgb[i + 2] = UInt8((r + c) % 256)
            }
        }
        let source = try ReferencedInstance(file: files[files.count / 2])
        let image = KeyImage(sourceInstancePath: files[0], rgb: rgb, rows: rows, columns: columns,
                             instance: CreatedInstance(studyInstanceUID: source.studyInstanceUID, seriesInstanceUID: Fixture.uid(),
                                                       sopInstanceUID: Fixture.uid(), seriesNumber: 9902,
                                                       seriesDescription: "LSTV key image", modelName: "lstv-node",
                                                       softwareVersion: "test"),
                             derivedFrom: source, derivationDescription: "Middle slice with level heatmaps; NOT FOR DIAGNOSTIC USE")
        let path = dir + "/sc.dcm"
        try SecondaryCaptureWriter.write(image, to: path)

        let (errors, all) = try Fixture.dciodvfyErrors(path)
        XCTAssertEqual(errors, [], "dciodvfy:\n\(all)")

        let ds = try DicomDataset(path: path, headerOnly: false)
        XCTAssertEqual(ds.text(.sopClassUID), SOPClass.secondaryCaptureImageStorage)
        XCTAssertEqual(ds.text(.transferSyntaxUID), TransferSyntax.explicitVRLittleEndian)
        XCTAssertEqual(ds.text(.studyInstanceUID), source.studyInstanceUID)
        XCTAssertEqual(ds.text(.patientID), try DicomDataset(path: files[0]).text(.patientID))
        XCTAssertEqual(ds.text(.imageType), "DERIVED\\SECONDARY")
        XCTAssertEqual(ds.text(Tag(0x0028, 0x0004)), "RGB")
        XCTAssertEqual(ds.int(Tag(0x0028, 0x0006)), 0)
        XCTAssertEqual(ds.text(Tag(0x0028, 0x0301)), "YES")
        XCTAssertEqual(ds.text(Tag(0x0008, 0x0064)), "WSD")
        let info = ds.imageInfo
        XCTAssertEqual([info.frames, info.rows, info.columns, info.samplesPerPixel], [1, rows, columns, 3])

        // The pixel bytes as stored (pydicom writes them out raw).
        guard FileManager.default.isExecutableFile(atPath: Fixture.python) else {
            return XCTFail("\(Fixture.python) missing: the suite's bootstrap creates .venv")
        }
        let raw = dir + "/pixels.raw"
        let script = """
        import sys, pydicom
        ds = pydicom.dcmread(sys.argv[1])
        assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == sys.argv[3]
        open(sys.argv[2], "wb").write(ds.PixelData)
        """
        let o = try Fixture.run(Fixture.python, ["-c", script, path, raw, source.sopInstanceUID])
        XCTAssertEqual(o.status, 0, o.stderr)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: raw)))
        XCTAssertEqual(bytes.count, rgb.count + rgb.count % 2, "even length, one pad byte at most")
        XCTAssertEqual(Array(bytes.prefix(rgb.count)), rgb)
    }

    func testWrongBufferSizeIsRejected() throws {
        let files = try Fixture.seriesFiles()
        let source = try ReferencedInstance(file: files[0])
        let image = KeyImage(sourceInstancePath: files[0], rgb: [1, 2, 3], rows: 2, columns: 2,
                             instance: CreatedInstance(studyInstanceUID: source.studyInstanceUID, seriesInstanceUID: Fixture.uid(),
                                                       sopInstanceUID: Fixture.uid(), seriesNumber: 1, seriesDescription: "x"),
                             derivedFrom: source)
        XCTAssertThrowsError(try SecondaryCaptureWriter.write(image, to: try Fixture.tempDir() + "/x.dcm"))
    }
}

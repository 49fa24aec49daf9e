import DICOM
import Foundation
import TestSupport
import XCTest
@testable import CohortReport
@testable import Raster

/// The PNG encoder checked against the format itself: chunk CRCs, the zlib checksum, the stored
/// blocks' data. (The integration test decodes a thumbnail with OpenCV as well.)
final class PNGTests: XCTestCase {
    struct Decoded { var width: Int, height: Int, colourType: UInt8, pixels: [UInt8] }

    func u32(_ b: ArraySlice<UInt8>) -> UInt32 { b.prefix(4).reduce(0) { $0 << 8 | UInt32($1) } }

    /// Reads a PNG this encoder can write: 8-bit RGB, filter 0, zlib stored blocks.
    func decode(_ png: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> Decoded {
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], file: file, line: line)
        var i = 8, chunks: [(String, [UInt8])] = []
        while i < png.count {
            let length = Int(u32(png[i...]))
            let typeAndData = Array(png[(i + 4)..<(i + 8 + length)])
            XCTAssertEqual(u32(png[(i + 8 + length)...]), PNG.crc32(typeAndData), "chunk CRC", file: file, line: line)
            chunks.append((String(decoding: typeAndData.prefix(4), as: UTF8.self), Array(typeAndData.dropFirst(4))))
            i += 12 + length
        }
        XCTAssertEqual(chunks.map(\.0), ["IHDR", "IDAT", "IEND"], file: file, line: line)
        let ihdr = chunks[0].1, zlib = chunks[1].1
        let width = Int(u32(ihdr[0...])), height = Int(u32(ihdr[4...]))
        XCTAssertEqual((UInt16(zlib[0]) << 8 | UInt16(zlib[1])) % 31, 0, "zlib header check", file: file, line: line)
        var raw: [UInt8] = [], p = 2, final = false
        while !final {
            final = zlib[p] & 1 == 1
            XCTAssertEqual(zlib[p] >> 1 & 3, 0, "stored block", file: file, line: line)
            let n = Int(zlib[p + 1]) | Int(zlib[p + 2]) << 8, nc = Int(zlib[p + 3]) | Int(zlib[p + 4]) << 8
            XCTAssertEqual(n ^ 0xFFFF, nc, file: file, line: line)
            raw += zlib[(p + 5)..<(p + 5 + n)]
            p += 5 + n
        }
        XCTAssertEqual(u32(zlib[p...]), PNG.adler32(raw), "Adler-32", file: file, line: line)
        var pixels: [UInt8] = []
        for r in 0..<height {
            let row = raw[(r * (width * 3 + 1))..<((r + 1) * (width * 3 + 1))]
            XCTAssertEqual(row.first, 0, "filter type none", file: file, line: line)
            pixels += row.dropFirst()
        }
        return Decoded(width: width, height: height, colourType: ihdr[9], pixels: pixels)
    }

    func testChecksumsMatchTheirStandards() {
        XCTAssertEqual(PNG.crc32(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(PNG.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
    }

    func testImageRoundTripsThroughSeveralStoredBlocks() throws {
        // 200 x 150 x 3 + 150 filter bytes = 90150 bytes: two stored blocks.
        let rows = 150, columns = 200
        let pixels = (0..<(rows * columns * 3)).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 600) }
        let png = PNG.encode(RGBImage(pixels: pixels, rows: rows, columns: columns))
        let d = try decode(png)
        XCTAssertEqual([d.width, d.height, Int(d.colourType)], [columns, rows, 2])
        XCTAssertEqual(d.pixels, pixels)
        XCTAssertEqual(try decode(PNG.encode(RGBImage(pixels: [1, 2, 3], rows: 1, columns: 1))).pixels, [1, 2, 3])
    }

    func testDownscalingAveragesTheSourcePixels() {
        // 2 x 4 → 1 x 2: each output pixel the mean of a 2 x 2 block.
        let image = RGBImage(pixels: [0, 0, 0, 10, 10, 10, 100, 0, 0, 100, 0, 0,
                                      20, 20, 20, 30, 30, 30, 100, 0, 0, 100, 0, 200], rows: 2, columns: 4)
        XCTAssertEqual(image.downscaled(toFit: 2), RGBImage(pixels: [15, 15, 15, 100, 0, 50], rows: 1, columns: 2))
        XCTAssertEqual(image.downscaled(toFit: 10), image, "never enlarged")
        let big = RGBImage(pixels: [UInt8](repeating: 9, count: 480 * 640 * 3), rows: 480, columns: 640).downscaled(toFit: 160)
        XCTAssertEqual([big.rows, big.columns], [120, 160])
    }

    /// A real key image: written with the node's Secondary Capture writer, read back through DCMTK.
    func testKeyImageThumbnailFromASecondaryCapture() throws {
        let files = try TestData.files(of: TestData.sagittalSeries)
        let rows = 300, columns = 400
        var rgb = [UInt8](repeating: 0, count: rows * columns * 3)
        for r in 0..<rows { for c in 0..<columns { rgb[(r * columns + c) * 3] = c < columns / 2 ? 255 : 0; rgb[(r * columns + c) * 3 + 2] = 60 } }
        let source = try ReferencedInstance(file: files[0])
        let path = try TestData.temporaryDirectory("report-thumbnail") + "/key_image.dcm"
        try SecondaryCaptureWriter.write(KeyImage(
            sourceInstancePath: files[0], rgb: rgb, rows: rows, columns: columns,
            instance: CreatedInstance(studyInstanceUID: source.studyInstanceUID, seriesInstanceUID: "1.2.826.0.1.3680043.10.9.1",
                                      sopInstanceUID: "1.2.826.0.1.3680043.10.9.2", seriesNumber: 9902, seriesDescription: "key"),
            derivedFrom: source), to: path)
        XCTAssertEqual(try DicomDataset(path: path, headerOnly: false).decodeRGBFrame(), rgb)

        let uri = try KeyImageThumbnail.dataURI(path: path)
        let prefix = "data:image/png;base64,"
        XCTAssertTrue(uri.hasPrefix(prefix))
        let png = try XCTUnwrap(Data(base64Encoded: String(uri.dropFirst(prefix.count))))
        let d = try decode([UInt8](png))
        XCTAssertEqual([d.width, d.height], [160, 120])
        XCTAssertEqual(Array(d.pixels.prefix(3)), [255, 0, 60], "left half red")
        XCTAssertEqual(Array(d.pixels[(159 * 3)..<(160 * 3)]), [0, 0, 60], "right half dark")

        XCTAssertThrowsError(try KeyImageThumbnail.dataURI(path: files[0]), "an MR image is not RGB")
    }
}

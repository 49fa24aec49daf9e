import Foundation
import XCTest
@testable import Analysis

final class GeometryResultTests: XCTestCase {
    func testGridToOriginalIsInverseOfCv2Mapping() {
        // cv2 samples destination d at (d + 0.5) * src/dst - 0.5; the inverse maps it back.
        let p = Geometry.toOriginal(PixelPoint(row: 0, column: 159), gridRows: 160, gridColumns: 160, rows: 221, columns: 320)
        XCTAssertEqual(p.row, 0.5 * 221 / 160 - 0.5, accuracy: 1e-12)
        XCTAssertEqual(p.column, 159.5 * 2 - 0.5, accuracy: 1e-12)
        // The grid's centre is the image's centre.
        let c = Geometry.toOriginal(PixelPoint(row: 79.5, column: 79.5), gridRows: 160, gridColumns: 160, rows: 221, columns: 512)
        XCTAssertEqual(c.row, 110, accuracy: 1e-12)
        XCTAssertEqual(c.column, 255.5, accuracy: 1e-12)
    }

    func testPixelToPatient() {
        // Sagittal, head-up: along a row → anterior-to-posterior (+y), down the rows → feet (-z).
        // Anisotropic spacing so a swapped PixelSpacing would show: rows 0.5 mm apart, columns 0.8 mm.
        let g = SliceGeometry(position: [10, -100, 50],
                              orientation: ImageOrientation(row: [0, 1, 0], column: [0, 0, -1]),
                              spacing: PixelSpacing(row: 0.5, column: 0.8))
        XCTAssertEqual(g.patientPosition(of: PixelPoint(row: 0, column: 0)), [10, -100, 50])
        XCTAssertEqual(g.patientPosition(of: PixelPoint(row: 20, column: 10)), [10, -100 + 8, 50 - 10])
    }

    func stack() throws -> SliceStack {
        let iop = ImageOrientation(row: [0, 1, 0], column: [0, 0, -1])
        return try SliceStack((0..<3).map { i in
            SourceSlice(pixels: [Float](repeating: 0, count: 320 * 320), rows: 320, columns: 320,
                        imagePositionPatient: [Double(-i), -100, 100], imageOrientationPatient: iop,
                        pixelSpacing: PixelSpacing(row: 1, column: 1), instanceNumber: i + 1, sopInstanceUID: "1.2.\(i + 1)")
        })
    }

    func testAssembleAndJSON() throws {
        var metrics: [LevelName: LevelMetrics] = [:]
        for (i, l) in LevelName.allCases.enumerated() {
            metrics[l] = LevelMetrics(peakConfidence: 0.9, entropy: 3.0 + Double(i), spatialEntropy: 1,
                                      point: l == .l5_s1 ? nil : PixelPoint(row: 40 + 20 * Double(i), column: 80))
        }
        let r = try AnalysisResult.assemble(metrics: metrics, gridRows: 160, gridColumns: 160, stack: try stack())
        XCTAssertEqual(r.risk, .high)  // L5/S1 entropy 7
        XCTAssertEqual(r.riskEntropy, 7)
        XCTAssertEqual(r.ladder.status, .incomplete)
        XCTAssertEqual(r.ladder.space, .mm)
        XCTAssertEqual(r.slice.index, 1)
        XCTAssertEqual(r.slice.sopInstanceUID, "1.2.2")
        let l1 = try XCTUnwrap(r.levels[.l1_l2])
        XCTAssertEqual(l1.pointPx, PixelPoint(row: 80.5, column: 160.5))  // (40.5 * 2 - 0.5, 80.5 * 2 - 0.5)
        XCTAssertEqual(l1.pointMm, [-1, -100 + 160.5, 100 - 80.5])

        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as! [String: Any]
        let levels = try XCTUnwrap(json["levels"] as? [String: Any])
        XCTAssertEqual(Set(levels.keys), ["l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1"])
        let j1 = try XCTUnwrap(levels["l1_l2"] as? [String: Any])
        XCTAssertEqual(Set(j1.keys), ["peak_confidence", "entropy", "spatial_entropy", "point_px", "point_mm"])
        XCTAssertEqual(j1["point_px"] as? [Double], [80.5, 160.5])
        let j5 = try XCTUnwrap(levels["l5_s1"] as? [String: Any])
        XCTAssertTrue(j5["point_px"] is NSNull)
        XCTAssertTrue(j5["point_mm"] is NSNull)
        XCTAssertEqual(json["risk"] as? String, "high")
        XCTAssertEqual((json["ladder"] as? [String: Any])?["status"] as? String, "incomplete")
        // Round trip.
        XCTAssertEqual(try JSONDecoder().decode(AnalysisResult.self, from: JSONEncoder().encode(r)), r)
    }
}

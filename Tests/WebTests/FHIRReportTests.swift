import Foundation
import Store
@testable import Web
import XCTest

/// The FHIR DiagnosticReport made from an `lstv_flags` row, and the API's date-time parsing.
final class FHIRReportTests: XCTestCase {
    func row(lumbarCount: String?, patient: String?) -> Row {
        var v = ["analysis_id": "7", "risk": "high", "analysed_at": "2026-11-30 08:00:01.5+00", "lstv_suspicion": "3.25",
                 "suspicion_scale": "normal_sd", "study_instance_uid": "1.2.3", "sr_sop_instance_uid": "1.2.3.9",
                 "l5_s1_confidence": "0.75", "l5_s1_entropy": "1.5", "suspicion_reasons": "junction unclear"]
        v["lumbar_count"] = lumbarCount
        v["patient_id"] = patient
        return Row(values: v)
    }

    func testReportHoldsTheFiguresAsContainedObservations() throws {
        let r = try FHIRReport.resource(row(lumbarCount: "6", patient: "P42"))
        XCTAssertEqual(r["resourceType"] as? String, "DiagnosticReport")
        XCTAssertEqual(r["id"] as? String, "lstv-analysis-7")
        XCTAssertEqual(r["effectiveDateTime"] as? String, "2026-11-30T08:00:01Z")
        XCTAssertEqual((r["subject"] as? [String: Any])?["identifier"] as? [String: String], ["value": "P42"])
        let contained = try XCTUnwrap(r["contained"] as? [[String: Any]])
        XCTAssertEqual(contained.compactMap { $0["id"] as? String }, ["suspicion", "risk", "lumbar-count", "level-l5-s1"])
        XCTAssertEqual((r["result"] as? [[String: String]])?.map { $0["reference"]! }, contained.map { "#\($0["id"]!)" })
        XCTAssertEqual(contained[2]["valueInteger"] as? Int, 6)
        let conclusion = try XCTUnwrap(r["conclusion"] as? String)
        XCTAssertTrue(conclusion.hasPrefix("LSTV risk high; suspicion 3.25 SD from normal anatomy; 6 lumbar vertebrae counted"))
        XCTAssertTrue(conclusion.contains("not a diagnosis"))
    }

    func testNoCountNoPatientNoElement() throws {
        let r = try FHIRReport.resource(row(lumbarCount: nil, patient: nil))
        XCTAssertNil(r["subject"])
        XCTAssertFalse((r["contained"] as? [[String: Any]] ?? []).contains { $0["id"] as? String == "lumbar-count" })
        XCTAssertThrowsError(try FHIRReport.resource(Row(values: ["analysis_id": "1", "risk": "huge"])))
    }

    func testSinceTakesRFC3339DateTimes() {
        XCTAssertNotNil(API.dateTime("2026-11-30T08:00:00Z"))
        XCTAssertNotNil(API.dateTime("2026-11-30t08:00:00.123+02:00"))
        XCTAssertNil(API.dateTime("yesterday"))
    }
}

import Store
import XCTest
@testable import Node

final class NodeAdminTests: XCTestCase {
    /// `flags list --json` prints each column as its PostgreSQL type says, not by its name.
    func testJSONValuesFollowTheColumnKind() throws {
        XCTAssertEqual(try NodeAdmin.jsonValue("42", kind: .integer, column: "lumbar_count") as? Int, 42)
        XCTAssertEqual(try NodeAdmin.jsonValue("5.25", kind: .number, column: "l5_s1_entropy") as? Double, 5.25)
        XCTAssertEqual(try NodeAdmin.jsonValue("t", kind: .boolean, column: "b") as? Bool, true)
        XCTAssertEqual(try NodeAdmin.jsonValue("2026-01-02", kind: .timestamp, column: "study_date") as? String, "2026-01-02")
        // A number-looking text column stays text (an accession number, say).
        XCTAssertEqual(try NodeAdmin.jsonValue("00123", kind: .text, column: "accession_number") as? String, "00123")
        let json = try XCTUnwrap(try NodeAdmin.jsonValue(#"{"risk": "low"}"#, kind: .json, column: "result") as? [String: String])
        XCTAssertEqual(json, ["risk": "low"])
        XCTAssertThrowsError(try NodeAdmin.jsonValue("x", kind: .integer, column: "lumbar_count")) { error in
            XCTAssertTrue("\(error)".contains("lumbar_count"), "\(error)")
        }
    }
}

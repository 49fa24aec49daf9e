import Store
import XCTest
@testable import Node

final class NodeAdminTests: XCTestCase {
    /// `flags list --json` prints each column as its PostgreSQL type says, not by its name.
    func testJSONValuesFollowTheColumnKind() throws {
        XCTAssertEqual(try Row.jsonValue("42", kind: .integer, column: "lumbar_count") as? Int, 42)
        XCTAssertEqual(try Row.jsonValue("5.25", kind: .number, column: "l5_s1_entropy") as? Double, 5.25)
        XCTAssertEqual(try Row.jsonValue("t", kind: .boolean, column: "b") as? Bool, true)
        XCTAssertEqual(try Row.jsonValue("2026-01-02", kind: .timestamp, column: "study_date") as? String, "2026-01-02")
        // A number-looking text column stays text (an accession number, say).
        XCTAssertEqual(try Row.jsonValue("00123", kind: .text, column: "accession_number") as? String, "00123")
        let json = try XCTUnwrap(try Row.jsonValue(#"{"risk": "low"}"#, kind: .json, column: "result") as? [String: String])
        XCTAssertEqual(json, ["risk": "low"])
        XCTAssertThrowsError(try Row.jsonValue("x", kind: .integer, column: "lumbar_count")) { error in
            XCTAssertTrue("\(error)".contains("lumbar_count"), "\(error)")
        }
    }
}

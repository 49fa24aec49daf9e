@testable import Cohort
import XCTest

final class InputTests: XCTestCase {
    func testCSVQuotingAndLineBreaks() throws {
        let t = try CSVTable("a,b,c\r\n1,\"x, \"\"y\"\"\",3\n4,\"two\nlines\",6\n", source: "t.csv")
        XCTAssertEqual(t.header, ["a", "b", "c"])
        XCTAssertEqual(t.rows.map { $0["b"] }, ["x, \"y\"", "two\nlines"])
        XCTAssertThrowsError(try CSVTable("a,b\n1\n", source: "t.csv")) { XCTAssertTrue("\($0)".contains("line 2"), "\($0)") }
    }

    func testLabelsNeedAKeyAndZeroOrOne() throws {
        let l = try Labels(csv: "accession_number,lstv,castellvi\nA1,1,IIIb\nA2,0,\n", source: "l.csv")
        XCTAssertEqual(l.key, .accessionNumber)
        XCTAssertEqual(l.byKey.map(\.1), [Labels.Label(lstv: true, castellvi: "IIIb"), Labels.Label(lstv: false, castellvi: nil)])
        XCTAssertThrowsError(try Labels(csv: "patient,lstv\nP,1\n", source: "l.csv"))
        XCTAssertThrowsError(try Labels(csv: "series_instance_uid,lstv\n1.2,2\n", source: "l.csv"))
        XCTAssertThrowsError(try Labels(csv: "series_instance_uid,lstv\n1.2,1\n1.2,0\n", source: "l.csv")) {
            XCTAssertTrue("\($0)".contains("labelled twice"), "\($0)")
        }
    }

    /// DICOM Patient IDs map onto the training data's subject IDs.
    func testTrainingSubjectIDs() {
        XCTAssertEqual(TrainingSubjects.subjectID(patientID: "FCS-IVD-11"), "fcs_ivd_11")
        // sha256("fcs_ivd_11")
        let t = TrainingSubjects(hashes: ["a09e64893d840cddecb1232c90d99beb02b613575640bf4edd8534f5161b81f8"])
        XCTAssertTrue(t.contains(patientID: "FCS-IVD-11"))
        XCTAssertFalse(t.contains(patientID: "FCS-IVD-25"))
        XCTAssertFalse(t.contains(patientID: nil))
    }
}

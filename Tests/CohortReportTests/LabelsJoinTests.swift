import Cohort
import XCTest
@testable import CohortReport

final class LabelsJoinTests: XCTestCase {
    func testTheMostSpecificKeyColumnIsJoinedOn() throws {
        let labels = try Labels(csv: """
            accession_number,series_instance_uid,lstv,castellvi
            ACC1,1.2.826.0.1.3680043.10.1.1.2,1,IIa
            ACC2,"1.2.826.0.1.3680043.10.1.2.2",0,
            """, source: "labels.csv")
        XCTAssertEqual(labels.key, .seriesInstanceUID)
        XCTAssertEqual(labels.label(for: ReportFixtures.makeCase(1, suspicion: 0)), Labels.Label(lstv: true, castellvi: "IIa"))
        XCTAssertEqual(labels.label(for: ReportFixtures.makeCase(2, suspicion: 0)), Labels.Label(lstv: false, castellvi: nil))
        XCTAssertNil(labels.label(for: ReportFixtures.makeCase(3, suspicion: 0)))
    }

    func testAccessionAndStudyKeys() throws {
        let byAccession = try Labels(csv: "accession_number,lstv\nX9,1\n", source: "a.csv")
        XCTAssertEqual(byAccession.key, .accessionNumber)
        XCTAssertEqual(byAccession.label(for: ReportFixtures.makeCase(9, suspicion: 0, accession: "X9"))?.lstv, true)
        let byStudy = try Labels(csv: "study_instance_uid,accession_number,lstv\n1.2.826.0.1.3680043.10.1.4,nope,0\n", source: "s.csv")
        XCTAssertEqual(byStudy.key, .studyInstanceUID)
        XCTAssertEqual(byStudy.label(for: ReportFixtures.makeCase(4, suspicion: 0))?.lstv, false)
    }

    func testBadFilesAreRefusedWithTheLine() {
        XCTAssertThrowsError(try Labels(csv: "patient,lstv\np,1\n", source: "k.csv")) {
            XCTAssertTrue("\($0)".contains("no key column"), "\($0)")
        }
        XCTAssertThrowsError(try Labels(csv: "accession_number\nA\n", source: "m.csv")) {
            XCTAssertTrue("\($0)".contains("lstv"), "\($0)")
        }
        XCTAssertThrowsError(try Labels(csv: "accession_number,lstv\nA,yes\n", source: "v.csv")) {
            XCTAssertTrue("\($0)".contains("v.csv line 2: lstv must be 0 or 1"), "\($0)")
        }
        XCTAssertThrowsError(try Labels(csv: "accession_number,lstv\nA,1\nB,0\nA,0\n", source: "d.csv")) {
            XCTAssertTrue("\($0)".contains("d.csv line 4"), "\($0)")
        }
        XCTAssertThrowsError(try Labels(csv: "accession_number,lstv\n,1\n", source: "e.csv"))
        // The same label twice is not a conflict.
        XCTAssertNoThrow(try Labels(csv: "accession_number,lstv\nA,1\nA,1\n", source: "ok.csv"))
    }
}

import DICOM
import XCTest

final class UIDTests: XCTestCase {
    func testValidUIDs() {
        for uid in ["1.2.840.10008.5.1.4.1.1.4", "2.25.123456789012345678901234567890", "0", "1.0.2",
                    String(repeating: "1", count: 64)] {
            XCTAssertTrue(UID.isValid(uid), uid)
        }
    }

    /// Anything that could escape the spool or confuse a path is refused.
    func testInvalidUIDs() {
        for uid in ["", "../../etc", "..", ".", "1..2", ".1.2", "1.2.", "1.2/3", "1.2\\3", "1.2 3", "1.2\0", "a.b",
                    String(repeating: "1", count: 65), "１.２"] {
            XCTAssertFalse(UID.isValid(uid), uid)
        }
    }

    func testStatusClasses() {
        XCTAssertTrue(DIMSEStatus.success.isSuccess)
        XCTAssertTrue(DIMSEStatus.coercionOfDataElements.isWarning)
        XCTAssertTrue(DIMSEStatus(rawValue: 0xB007).isWarning)
        XCTAssertFalse(DIMSEStatus.outOfResources.isWarning)
        XCTAssertEqual(DIMSEStatus.dataSetDoesNotMatchSOPClass.description, "0xA900")
    }
}

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
        let categories: [(UInt16, DIMSEStatus.Category)] = [
            (0x0000, .success), (0x0001, .warning), (0xB000, .warning), (0xB007, .warning), (0xFE00, .cancel),
            (0xFF00, .pending), (0xA700, .outOfResources), (0xA7FF, .outOfResources), (0xA900, .dataSetDoesNotMatchSOPClass),
            (0xC000, .cannotUnderstand), (0xC211, .cannotUnderstand), (0x0110, .processingFailure), (0x0122, .refused),
            (0x0117, .refused), (0x0213, .otherFailure)]
        for (raw, category) in categories {
            XCTAssertEqual(DIMSEStatus(rawValue: raw).category, category, String(raw, radix: 16))
        }
    }
}

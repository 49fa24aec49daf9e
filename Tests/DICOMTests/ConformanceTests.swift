import Foundation
import TestSupport
import XCTest
@testable import DICOM

/// The README's table of accepted SOP classes and transfer syntaxes is `lstv-node conformance`'s
/// output, generated from the lists the listener negotiates with.
final class ConformanceTests: XCTestCase {
    func testTheREADMETableIsTheGeneratedOne() throws {
        let readme = try String(contentsOf: TestData.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let begin = "<!-- conformance:begin -->\n", end = "<!-- conformance:end -->"
        let start = try XCTUnwrap(readme.range(of: begin)), stop = try XCTUnwrap(readme.range(of: end))
        XCTAssertEqual(String(readme[start.upperBound..<stop.lowerBound]), Conformance.markdown(),
                       "regenerate the README section with `lstv-node conformance`")
    }

    func testEveryAcceptedUIDIsNamedOnceInTheTable() {
        let text = Conformance.markdown()
        for uid in [SOPClass.verification] + SOPClass.acceptedStorage + TransferSyntax.accepted {
            XCTAssertNotNil(Conformance.names[uid], uid)
            XCTAssertEqual(text.components(separatedBy: "`\(uid)`").count, 2, uid)
        }
        XCTAssertFalse(text.contains(TransferSyntax.htj2kLossless), "HTJ2K is not offered (UID.swift says why)")
    }
}

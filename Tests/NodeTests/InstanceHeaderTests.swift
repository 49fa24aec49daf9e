import DICOM
import Foundation
@testable import Node
import Records
import TestSupport
import XCTest

/// An enhanced multi-frame MR keeps orientation, TE, TR and slice thickness in its functional
/// groups: the routing descriptors are read from there when the top level lacks them.
final class InstanceHeaderTests: XCTestCase {
    func testDescriptorsOfALegacyConvertedEnhancedMRComeFromItsFunctionalGroups() throws {
        let directory = try TestData.temporaryDirectory("instance-header")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/enhanced.dcm"
        _ = try TestData.legacyConvertedEnhancedMR(at: path)
        // The source series has no TE/TR: give the first frame an MR Echo macro of its own and the
        // image a shared MR Timing macro, as an Enhanced MR Image carries them.
        try dcmodify(["-i", "(5200,9230)[0].(0018,9114)[0].(0018,9082)=96.5",
                      "-i", "(5200,9229)[0].(0018,9112)[0].(0018,0080)=4000", path])

        let classic = try InstanceHeader.read(path: try TestData.files(of: TestData.sagittalSeries)[0], expected: nil)
        let header = try InstanceHeader.read(path: path, expected: nil)
        XCTAssertEqual(header.sopClassUID, SOPClass.legacyConvertedEnhancedMRImageStorage)
        XCTAssertNil(try DicomDataset(path: path).text(.imageOrientationPatient), "test set-up: no top-level orientation")
        XCTAssertEqual(header.descriptors.imageOrientationPatient, classic.descriptors.imageOrientationPatient)
        XCTAssertEqual(header.descriptors.sliceThickness, classic.descriptors.sliceThickness)
        XCTAssertEqual(header.descriptors.echoTime, 96.5)
        XCTAssertEqual(header.descriptors.repetitionTime, 4000)
        let router = try RoutingConfiguration.default.compiled()
        let (route, reason) = router.route(header.descriptors)
        XCTAssertEqual(route, .localizer, reason)
        // A proton-density echo time in the frame's functional group keeps it from the T2 rule.
        try dcmodify(["-m", "(5200,9230)[0].(0018,9114)[0].(0018,9082)=20", path])
        let shortEcho = try InstanceHeader.read(path: path, expected: nil)
        XCTAssertEqual(shortEcho.descriptors.echoTime, 20)
        XCTAssertNotEqual(router.route(shortEcho.descriptors).0, .localizer)
    }

    func dcmodify(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/dcmodify")
        p.arguments = ["-nb"] + arguments
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "dcmodify \(arguments)")
    }
}

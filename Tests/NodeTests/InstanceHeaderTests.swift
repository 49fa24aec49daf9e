import Analysis
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
        // The source series has no TE/TR: give the image a shared MR Echo and MR Timing macro, as a
        // single-echo Enhanced MR Image carries them (a per-frame echo time makes stacks: below).
        try dcmodify(["-i", "(5200,9229)[0].(0018,9114)[0].(0018,9082)=96.5",
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
        // A proton-density echo time in the functional groups keeps it from the T2 rule.
        try dcmodify(["-m", "(5200,9229)[0].(0018,9114)[0].(0018,9082)=20", path])
        let shortEcho = try InstanceHeader.read(path: path, expected: nil)
        XCTAssertEqual(shortEcho.descriptors.echoTime, 20)
        XCTAssertNotEqual(router.route(shortEcho.descriptors).0, .localizer)
    }

    /// Two echoes in one instance, the short one (proton density) the larger stack and first: the
    /// routing rules judge the echo they would analyse — the T2 one — not frame 1 nor the largest.
    func testTheStackTheRulesRouteDescribesATwoEchoInstance() throws {
        let directory = try TestData.temporaryDirectory("instance-header")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/enhanced.dcm"
        _ = try TestData.legacyConvertedEnhancedMR(at: path)
        let frames = try DicomDataset(path: path).imageInfo.frames
        let longEcho = frames / 2 + 1  // frames from it on: TE 100, fewer than the TE 20 ones before
        try dcmodify((0..<frames).flatMap { f in
            ["-i", "(5200,9230)[\(f)].(0018,9114)[0].(0018,9082)=\(f < longEcho ? 20 : 100)"]
        } + ["-i", "(5200,9229)[0].(0018,9112)[0].(0018,0080)=4000", path])
        let router = try RoutingConfiguration.default.compiled()

        let largest = try InstanceHeader.read(path: path, expected: nil)
        XCTAssertEqual(largest.descriptors.echoTime, 20)
        XCTAssertEqual(router.route(largest.descriptors).0, .ignored)
        let routed = try InstanceHeader.read(path: path, expected: nil, stackChoice: router.stackChoice)
        XCTAssertEqual(routed.descriptors.echoTime, 100)
        XCTAssertEqual(routed.descriptors.repetitionTime, 4000)
        let (route, reason) = router.route(routed.descriptors)
        XCTAssertEqual(route, .localizer, reason)
    }

    /// No stack routed: the largest one describes the instance (its series is ignored with its reasons).
    func testWithoutARoutedStackTheLargestDescribesTheInstance() throws {
        let router = try RoutingConfiguration.default.compiled()
        let axial = SeriesDescriptors(modality: "MR", seriesDescription: "T2 AX", imageOrientationPatient: [1, 0, 0, 0, 1, 0])
        let stacks = [FrameStack(frames: [0, 1], descriptors: axial), FrameStack(frames: [2, 3, 4], descriptors: axial)]
        XCTAssertEqual(router.stackChoice(stacks), 1)
        var sagittal = axial
        sagittal.imageOrientationPatient = [0, 1, 0, 0, 0, -1]
        XCTAssertEqual(router.stackChoice(stacks + [FrameStack(frames: [5], descriptors: sagittal)]), 2)
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

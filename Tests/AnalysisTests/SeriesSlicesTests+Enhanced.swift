import DICOM
import Foundation
import TestSupport
import XCTest
@testable import Analysis

/// The real sagittal series packed by highdicom into one Legacy Converted Enhanced MR Image gives
/// the same stack — order, geometry, pixels — as its single-frame instances (in `SeriesSlicesTests`'
/// temporary directory).
extension SeriesSlicesTests {
    func legacyConverted() throws -> (path: String, uid: String) {
        let path = "\(directory)/enhanced.dcm"
        return (path, try TestData.legacyConvertedEnhancedMR(at: path))
    }

    func testEnhancedFramesGiveTheClassicStack() throws {
        let classic = try SeriesSlices.load(try TestData.files(of: TestData.sagittalSeries).map { SliceFile(path: $0) }).stack
        let enhanced = try legacyConverted()
        XCTAssertEqual(try DicomDataset(path: enhanced.path).text(.sopClassUID), "1.2.840.10008.5.1.4.1.1.4.4")
        let loaded = try SeriesSlices.load([SliceFile(path: enhanced.path)])
        XCTAssertEqual(loaded.excluded, [])
        let stack = loaded.stack
        XCTAssertEqual(stack.count, classic.count)
        XCTAssertEqual(stack.ordering, classic.ordering)
        XCTAssertEqual(stack.middleIndex, classic.middleIndex)
        for (frame, slice) in zip(stack.slices, classic.slices) {
            XCTAssertEqual(frame.sopInstanceUID, enhanced.uid)
            XCTAssertEqual(frame.rows, slice.rows)
            XCTAssertEqual(frame.columns, slice.columns)
            XCTAssertEqual(frame.imagePositionPatient, slice.imagePositionPatient)
            XCTAssertEqual(frame.imageOrientationPatient, slice.imageOrientationPatient)
            XCTAssertEqual(frame.pixelSpacing, slice.pixelSpacing)
            XCTAssertEqual(frame.pixels, slice.pixels, "frame \(frame.frameNumber ?? 0)")
        }
        // Frame numbers follow the frames' order in the file, which highdicom keeps as the series'.
        let numbers = stack.slices.compactMap(\.frameNumber)
        XCTAssertEqual(numbers.count, stack.count)
        XCTAssertEqual(Set(numbers), Set(1...stack.count))
    }

    /// A multi-frame image without functional groups stays left out, with the reason.
    func testMultiFrameWithoutFunctionalGroupsIsExcluded() throws {
        let enhanced = try legacyConverted()
        let stripped = "\(directory)/stripped.dcm"
        try FileManager.default.copyItem(atPath: enhanced.path, toPath: stripped)
        try dcmodify(["-nb", "-ea", "(5200,9229)", "-ea", "(5200,9230)", stripped])
        XCTAssertThrowsError(try DicomSlices.slices(path: stripped)) { error in
            guard let e = error as? DicomSlices.LoadError, case .multiFrame = e.reason else {
                return XCTFail("expected a multi-frame exclusion, got \(error)")
            }
        }
    }

    /// Two echoes in one instance (MR Echo per frame): not one volume; the larger echo's frames are
    /// the stack, in their geometric order.
    func testTheLargestEchoOfAnInstanceIsTheStack() throws {
        let enhanced = try legacyConverted()
        let frames = try DicomDataset(path: enhanced.path).imageInfo.frames
        let firstEcho = frames / 2  // frames 1…firstEcho: TE 30, the rest (the larger): TE 100
        try dcmodify(["-nb"] + (0..<frames).flatMap { f in
            ["-i", "(5200,9230)[\(f)].(0018,9114)[0].(0018,9082)=\(f < firstEcho ? 30 : 100)"]
        } + [enhanced.path])
        let stack = try SeriesSlices.load([SliceFile(path: enhanced.path)]).stack
        XCTAssertEqual(stack.count, frames - firstEcho)
        XCTAssertEqual(Set(stack.slices.compactMap(\.frameNumber)), Set((firstEcho + 1)...frames))
        XCTAssertEqual(stack.ordering, .slicePosition)
    }
}

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

    /// The legacy-converted series with an MR Echo per frame: frames 1…firstEcho TE 30, the rest
    /// (the larger stack) TE 100.
    func twoEchoes() throws -> (enhanced: (path: String, uid: String), frames: Int, firstEcho: Int) {
        let enhanced = try legacyConverted()
        let frames = try DicomDataset(path: enhanced.path).imageInfo.frames
        let firstEcho = frames / 2
        try dcmodify(["-nb"] + (0..<frames).flatMap { f in
            ["-i", "(5200,9230)[\(f)].(0018,9114)[0].(0018,9082)=\(f < firstEcho ? 30 : 100)"]
        } + [enhanced.path])
        return (enhanced, frames, firstEcho)
    }

    /// Two echoes in one instance (MR Echo per frame): not one volume; the larger echo's frames are
    /// the stack, in their geometric order.
    func testTheLargestEchoOfAnInstanceIsTheStack() throws {
        let (enhanced, frames, firstEcho) = try twoEchoes()
        let stack = try SeriesSlices.load([SliceFile(path: enhanced.path)]).stack
        XCTAssertEqual(stack.count, frames - firstEcho)
        XCTAssertEqual(Set(stack.slices.compactMap(\.frameNumber)), Set((firstEcho + 1)...frames))
        XCTAssertEqual(stack.ordering, .slicePosition)
    }

    /// The stacks of a two-echo instance carry their own echo time; a stack choice other than the
    /// largest (the node's routing rules) is the stack analysed.
    func testTheChosenEchoOfAnInstanceIsTheStack() throws {
        let (enhanced, frames, firstEcho) = try twoEchoes()
        let stacks = EnhancedFrames.stacks(try DicomDataset(path: enhanced.path), frames: frames)
        XCTAssertEqual(stacks.map(\.descriptors.echoTime), [30, 100])
        XCTAssertEqual(stacks.map(\.frames.count), [firstEcho, frames - firstEcho])
        XCTAssertEqual(stacks[0].descriptors.seriesDescription, try DicomDataset(path: enhanced.path).text(.seriesDescription))
        let shortEcho = try SeriesSlices.load([SliceFile(path: enhanced.path)], stackChoice: { stacks in
            stacks.firstIndex { $0.descriptors.echoTime == 30 }!
        }).stack
        XCTAssertEqual(Set(shortEcho.slices.compactMap(\.frameNumber)), Set(1...firstEcho))
    }

    /// A series holding its slices twice — single-frame instances and the enhanced instance made from
    /// them — is analysed from one form, the one with more slices (ties: the single-frame ones); the
    /// other is left out with its reason, never interleaved.
    func testASeriesInBothFormsIsAnalysedFromOneForm() throws {
        let classic = try TestData.files(of: TestData.sagittalSeries)
        let enhanced = try legacyConverted()
        let both = try SeriesSlices.load((classic + [enhanced.path]).map { SliceFile(path: $0) })
        XCTAssertEqual(both.stack.count, classic.count)
        XCTAssertTrue(both.stack.slices.allSatisfy { $0.frameNumber == nil })
        XCTAssertEqual(both.excluded, [ExcludedInstance(instance: enhanced.uid,
                                                        reason: .otherForm(slices: classic.count, analysed: classic.count))])
        // Fewer single-frame instances than frames: the enhanced instance is the stack.
        let few = Array(classic.prefix(5))
        let mostlyEnhanced = try SeriesSlices.load((few + [enhanced.path]).map { SliceFile(path: $0) })
        XCTAssertEqual(mostlyEnhanced.stack.count, classic.count)
        XCTAssertTrue(mostlyEnhanced.stack.slices.allSatisfy { $0.sopInstanceUID == enhanced.uid })
        XCTAssertEqual(mostlyEnhanced.excluded.map(\.instance), try few.map { try XCTUnwrap(DicomDataset(path: $0).text(.sopInstanceUID)) })
        XCTAssertEqual(Set(mostlyEnhanced.excluded.map(\.reason)),
                       [SliceExclusion.Reason.otherForm(slices: few.count, analysed: classic.count).description])
    }
}

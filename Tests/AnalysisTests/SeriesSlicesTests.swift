import DICOM
import Engine
import Foundation
import TestSupport
import XCTest
@testable import Analysis

/// A series is analysed from the instances that can be: real slices of the shared study, plus
/// edited copies (dcmodify) and a file that is no DICOM.
final class SeriesSlicesTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = try TestData.temporaryDirectory("series-slices")
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(atPath: directory)
    }

    /// A copy of `source` with a new SOP Instance UID and its pixel data removed.
    func withoutPixelData(_ source: String) throws -> (path: String, uid: String) {
        let path = "\(directory)/no-pixels.dcm", uid = "2.25.\(UInt64.random(in: 1...UInt64.max))"
        try FileManager.default.copyItem(atPath: source, toPath: path)
        try dcmodify(["-nb", "-m", "(0008,0018)=\(uid)", "-ea", "(7fe0,0010)", path])
        return (path, uid)
    }

    func dcmodify(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/dcmodify")
        p.arguments = arguments
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "dcmodify \(arguments)")
    }

    func size(_ path: String) throws -> (rows: Int, columns: Int) {
        let info = try DicomDataset(path: path).imageInfo
        return (info.rows, info.columns)
    }

    func testOddInstancesAreExcludedAndNamed() throws {
        let sagittal = try TestData.files(of: TestData.sagittalSeries)
        let axial = try TestData.files(of: TestData.axialSeries)[0]
        let axialUID = try XCTUnwrap(DicomDataset(path: axial).text(.sopInstanceUID))
        let noPixels = try withoutPixelData(sagittal[0])
        let garbage = "\(directory)/garbage.dcm"
        try Data("not DICOM".utf8).write(to: URL(fileURLWithPath: garbage))
        let (seriesRows, seriesColumns) = try size(sagittal[0]), (otherRows, otherColumns) = try size(axial)
        XCTAssertNotEqual(seriesColumns, otherColumns, "the distractor must have another size")

        let clean = try SeriesSlices.load(sagittal.map { SliceFile(path: $0) })
        XCTAssertEqual(clean.excluded, [])
        let files = [SliceFile(path: garbage, sopInstanceUID: "2.25.1")] + sagittal.map { SliceFile(path: $0) }
            + [SliceFile(path: axial), SliceFile(path: noPixels.path)]
        let mixed = try SeriesSlices.load(files)

        // The usable slices are the clean series, in the same order, so the middle slice is the same.
        XCTAssertEqual(mixed.stack.count, sagittal.count)
        XCTAssertEqual(mixed.stack.slices.map(\.sopInstanceUID), clean.stack.slices.map(\.sopInstanceUID))
        XCTAssertEqual(mixed.stack.middle.sopInstanceUID, clean.stack.middle.sopInstanceUID)
        XCTAssertEqual(mixed.excluded.map(\.instance), ["2.25.1", noPixels.uid, axialUID])
        XCTAssertTrue(mixed.excluded[0].reason.hasPrefix("cannot be read: "), mixed.excluded[0].reason)
        XCTAssertEqual(mixed.excluded[1].reason, "no pixel data")
        XCTAssertEqual(mixed.excluded[2].reason,
                       "rows/columns \(otherRows)x\(otherColumns) differ from the series' \(seriesRows)x\(seriesColumns)")
    }

    /// The series' size is the one most slices have, whatever the files' order; on a tie the larger.
    func testSeriesSizeIsTheMajorityOrTheLargerOnATie() throws {
        let sagittal = Array(try TestData.files(of: TestData.sagittalSeries).prefix(3))
        let axial = Array(try TestData.files(of: TestData.axialSeries).prefix(2))
        let slices = try DicomSlices.load(paths: sagittal + axial)
        for order in [slices, slices.reversed()] {
            let s = try SeriesSlices.select(Array(order))
            XCTAssertEqual(s.stack.count, 3)
            XCTAssertEqual(Set(s.stack.slices.map(\.sopInstanceUID)), Set(slices.prefix(3).map(\.sopInstanceUID)))
        }
        let axialMajority = try SeriesSlices.select(Array(slices[2...]))
        XCTAssertEqual(axialMajority.stack.count, 2)
        XCTAssertEqual(axialMajority.excluded.map(\.instance), [slices[2].sopInstanceUID])
        let tie = try SeriesSlices.select(Array(slices[1...4].reversed()))
        XCTAssertEqual(tie.stack.rows * tie.stack.columns, slices[1].rows * slices[1].columns)
    }

    /// A slice of the series' size turned to another plane is left out, named with both
    /// orientations; without a majority orientation the slices are not one stack.
    func testAnotherOrientationIsLeftOutWhenTheSeriesHasAMajority() throws {
        let slices = try DicomSlices.load(paths: Array(try TestData.files(of: TestData.sagittalSeries).prefix(3)))
        let series = try XCTUnwrap(slices[0].imageOrientationPatient)
        var turned = slices[1]
        turned.imageOrientationPatient = ImageOrientation(row: series.column, column: series.normal)
        turned.sopInstanceUID = "2.25.3"
        let s = try SeriesSlices.select([slices[0], turned, slices[2]])
        XCTAssertEqual(s.stack.slices.map(\.sopInstanceUID).sorted(), [slices[0], slices[2]].map(\.sopInstanceUID).sorted())
        XCTAssertEqual(s.excluded.map(\.instance), ["2.25.3"])
        XCTAssertTrue(s.excluded[0].reason.hasPrefix("image orientation "), s.excluded[0].reason)
        XCTAssertTrue(s.excluded[0].reason.hasSuffix("differs from the series' " + SliceExclusion.Reason.text(series)), s.excluded[0].reason)
        XCTAssertThrowsError(try SeriesSlices.select([slices[0], turned])) { e in
            guard case SliceStackError.mixedOrientations = e else { return XCTFail("\(e)") }
        }
    }

    func testTooFewUsableSlicesFailWithTheCountAndReasons() throws {
        let sagittal = try TestData.files(of: TestData.sagittalSeries)
        let noPixels = try withoutPixelData(sagittal[0])
        let files = [SliceFile(path: sagittal[1]), SliceFile(path: noPixels.path, sopInstanceUID: noPixels.uid),
                     SliceFile(path: "\(directory)/missing.dcm", sopInstanceUID: "2.25.2")]
        XCTAssertThrowsError(try SeriesSlices.load(files)) { error in
            guard case let SeriesSlicesError.tooFewUsable(usable, instances, needed, excluded) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual([usable, instances, needed], [1, 3, SeriesSlices.minimumUsable(instances: 3)])
            XCTAssertEqual(excluded.map(\.instance), [noPixels.uid, "2.25.2"])
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("only 1 of 3 instances usable"), text)
            XCTAssertTrue(text.contains("\(noPixels.uid): no pixel data"), text)
        }
    }

    /// The analysis of a series with odd instances is the analysis of its usable slices, and
    /// records what it left out; without them the result's JSON has no such field.
    func testAnalysisRunsOnTheUsableSlicesAndRecordsTheExcluded() throws {
        let sagittal = try TestData.files(of: TestData.sagittalSeries)
        let noPixels = try withoutPixelData(sagittal[0])
        let analyzer = try Analyzer(model: LocalizerModel(contentsOf: TestData.localizerModel))
        let clean = try analyzer.run(paths: sagittal).result
        var mixed = try analyzer.run(paths: sagittal + [noPixels.path]).result
        XCTAssertEqual(mixed.excludedInstances, [ExcludedInstance(instance: noPixels.uid, reason: "no pixel data")])
        XCTAssertEqual(mixed.slice.count, sagittal.count)
        XCTAssertNil(clean.excludedInstances)
        let json = String(decoding: try JSONEncoder().encode(clean), as: UTF8.self)
        XCTAssertFalse(json.contains("excluded_instances"), json)
        mixed.excludedInstances = nil
        XCTAssertEqual(mixed, clean)
    }
}

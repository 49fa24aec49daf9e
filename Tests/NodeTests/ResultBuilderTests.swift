import Analysis
import DICOM
import Engine
import Foundation
@testable import Node
import Records
@testable import Store
import TestSupport
import XCTest

/// The report and key image of one real analysis (the bundled model on the shared sagittal series),
/// written and read back: where they are, which study and series they are in, UIDs the job fixes.
final class ResultBuilderTests: XCTestCase {
    /// The series' instances and the analysis of them, made once: the engine run is the slow part.
    static let analysed = Result { () -> (instances: [InstanceReference], output: Analyzer.Output) in
        let records = try NodeFixtures.records(of: TestData.sagittalSeries, receivedAt: Date())
        let instances = records.map {
            InstanceReference(path: $0.path, sopClassUID: $0.sopClassUID, sopInstanceUID: $0.sopInstanceUID,
                              seriesInstanceUID: $0.seriesInstanceUID, studyInstanceUID: $0.studyInstanceUID)
        }
        let output = try NodeFixtures.analyzer(try NodeFixtures.configuration()).run(paths: instances.map(\.path))
        return (instances, output)
    }

    var configuration = NodeConfiguration()
    var instances: [InstanceReference] = []
    var output: Analyzer.Output!
    var model: LocalizerModel!

    override func setUpWithError() throws {
        configuration = try NodeFixtures.configuration()
        (instances, output) = try Self.analysed.get()
        model = try NodeFixtures.model.get()
    }

    func job(_ id: Int64) -> AnalysisJob {
        AnalysisJob(id: id, seriesInstanceUID: instances[0].seriesInstanceUID, seriesRevision: 0, attempts: 1, model: ModelIdentity(model), claimant: 1)
    }

    var series: SeriesRecord {
        let t = Date()
        return SeriesRecord(seriesInstanceUID: instances[0].seriesInstanceUID, studyInstanceUID: instances[0].studyInstanceUID,
                            sopClassUID: instances[0].sopClassUID, descriptors: SeriesDescriptors(), callingAETitle: "PACS",
                            instances: instances.count, state: .complete, route: .localizer, reason: nil, revision: 0,
                            firstInstanceAt: t, lastInstanceAt: t, completedAt: t)
    }

    func build(job id: Int64 = 7, installation: String = "install-a", predecessor: ReferencedInstance? = nil,
               instances: [InstanceReference]? = nil) throws -> [ResultRecord] {
        var builder = try ResultBuilder(configuration: configuration)
        builder.installation = installation
        return try builder.build(job: job(id), series: series, instances: instances ?? self.instances, output: output,
                                 model: model, predecessor: predecessor)
    }

    var resultsDirectory: String { configuration.dataDirectory + "/results" }

    /// Each object is a new series in the analysed study, for the same patient, as the record says.
    func testReportKeyImageAndKeyObjectsAreNewSeriesInTheAnalysedStudy() throws {
        let records = try build(job: 7)
        XCTAssertEqual(records.map(\.kind), [.sr, .keyImage, .keyObjectSelection])
        XCTAssertEqual(records.map(\.path), ["\(resultsDirectory)/7/sr.dcm", "\(resultsDirectory)/7/key_image.dcm",
                                             "\(resultsDirectory)/7/key_objects.dcm"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(resultsDirectory)/7").sorted(),
                       ["key_image.dcm", "key_objects.dcm", "sr.dcm"], "a temporary file was left behind")
        let source = try DicomDataset(path: instances[0].path)
        let expected: [(sopClass: String, number: Int, description: String)] = [
            (SOPClass.comprehensive3DSRStorage, configuration.results.srSeriesNumber, configuration.results.srSeriesDescription),
            (SOPClass.secondaryCaptureImageStorage, configuration.results.keyImageSeriesNumber,
             configuration.results.keyImageSeriesDescription),
            (SOPClass.keyObjectSelectionDocumentStorage, configuration.results.keyObjectSelectionSeriesNumber,
             configuration.results.keyObjectSelectionSeriesDescription),
        ]
        for (r, e) in zip(records, expected) {
            let ds = try DicomDataset(path: r.path)
            XCTAssertEqual(ds.text(.sopClassUID), e.sopClass)
            XCTAssertEqual(r.sopClassUID, e.sopClass)
            XCTAssertEqual(ds.text(.sopInstanceUID), r.sopInstanceUID)
            XCTAssertEqual(ds.text(.seriesInstanceUID), r.seriesInstanceUID)
            XCTAssertEqual(ds.text(.studyInstanceUID), series.studyInstanceUID)
            XCTAssertEqual(ds.text(.patientID), source.text(.patientID))
            XCTAssertEqual(ds.int(.seriesNumber), e.number)
            XCTAssertEqual(ds.text(.seriesDescription), e.description)
            XCTAssertTrue(UID.isValid(r.sopInstanceUID) && UID.isValid(r.seriesInstanceUID))
            XCTAssertNil(r.predecessorSOPInstanceUID)
        }
        XCTAssertEqual(Set(records.map(\.seriesInstanceUID) + [series.seriesInstanceUID]).count, 4, "series UIDs not distinct")
    }

    /// The same job writes the same instances again (a re-run after a crash is the same object to
    /// the PACS); another job or another installation, other instances.
    func testUIDsAreDerivedFromTheJobAndTheInstallation() throws {
        func uids(_ records: [ResultRecord]) -> [String] { records.flatMap { [$0.sopInstanceUID, $0.seriesInstanceUID] } }
        let first = uids(try build(job: 7))
        XCTAssertEqual(uids(try build(job: 7)), first)
        XCTAssertTrue(Set(uids(try build(job: 8))).isDisjoint(with: first))
        XCTAssertTrue(Set(uids(try build(job: 7, installation: "install-b"))).isDisjoint(with: first))
        XCTAssertEqual(first[0], UIDGenerator.uid(for: "install-a analysis 7 sr"))
    }

    /// key_image and key_object_selection off: the report alone, in the configured SR document class.
    func testKeyImageOffAndEnhancedSR() throws {
        configuration.results.keyImage = false
        configuration.results.keyObjectSelection = false
        configuration.results.srDocument = .enhanced
        let records = try build()
        XCTAssertEqual(records.map(\.kind), [.sr])
        XCTAssertEqual(records.first?.sopClassUID, SOPClass.enhancedSRStorage)
        XCTAssertEqual(try DicomDataset(path: records[0].path).text(.sopClassUID), SOPClass.enhancedSRStorage)
    }

    /// A revised report names the report it replaces, in its record and in the file.
    func testRevisedReportReferencesItsPredecessor() throws {
        let previous = try XCTUnwrap(try build(job: 7).first)
        let predecessor = ReferencedInstance(sopClassUID: previous.sopClassUID, sopInstanceUID: previous.sopInstanceUID,
                                             seriesInstanceUID: previous.seriesInstanceUID, studyInstanceUID: series.studyInstanceUID)
        let revised = try XCTUnwrap(try build(job: 9, predecessor: predecessor).first)
        XCTAssertEqual(revised.predecessorSOPInstanceUID, previous.sopInstanceUID)
        XCTAssertNotEqual(revised.sopInstanceUID, previous.sopInstanceUID)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: revised.path))
        XCTAssertNotNil(bytes.range(of: Data(previous.sopInstanceUID.utf8)), "the revised SR does not reference its predecessor")
    }

    /// The analysed middle slice must be one of the series' indexed instances; nothing is written otherwise.
    func testMiddleSliceMissingFromTheInstancesFailsBeforeWriting() throws {
        let middle = output.result.slice.sopInstanceUID
        let without = instances.filter { $0.sopInstanceUID != middle }
        XCTAssertEqual(without.count, instances.count - 1)
        XCTAssertThrowsError(try build(instances: without)) { XCTAssertTrue($0 is AnalysisFailure, "\($0)") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: resultsDirectory), [])
    }
}

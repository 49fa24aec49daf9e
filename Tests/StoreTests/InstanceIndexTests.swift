import Foundation
import Records
import Store
import TestSupport
import XCTest

final class InstanceIndexTests: XCTestCase {
    var database: Database!
    var index: InstanceIndex!

    override func setUpWithError() throws {
        database = try TestDatabase.make()
        try Migrations.apply(to: database)
        index = InstanceIndex(database: database)
    }

    func record(_ sop: String, series: String = "1.2.3", at: Date, description: String = "T2_TSE_SAG") -> InstanceRecord {
        InstanceRecord(sopInstanceUID: sop, seriesInstanceUID: series, studyInstanceUID: "1.2", sopClassUID: "1.2.840.10008.5.1.4.1.1.4",
                       transferSyntaxUID: "1.2.840.10008.1.2.1", instanceNumber: Int(sop.split(separator: ".").last!),
                       path: "/spool/1.2/\(series)/\(sop).dcm", bytes: 1000, receivedAt: at, callingAETitle: "PACS",
                       series: SeriesDescriptors(patientID: "P1", modality: "MR", seriesDescription: description,
                                                 imageOrientationPatient: [0, 1, 0, 0, 0, -1], echoTime: 96.5))
    }

    func testMigrationsAreIdempotent() throws {
        XCTAssertEqual(try Migrations.apply(to: database), [])
        XCTAssertEqual(try Migrations.pending(in: database), [])
    }

    func testIndexingIsIdempotentAndCountsOnce() throws {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let batch = (1...5).map { record("1.2.3.\($0)", at: t0.addingTimeInterval(Double($0))) }
        XCTAssertEqual(try index.index(batch), 5)
        XCTAssertEqual(try index.index(batch), 0)
        XCTAssertEqual(try index.index([batch[0], record("1.2.3.6", at: t0.addingTimeInterval(6))]), 1)
        let s = try XCTUnwrap(try index.series(uid: "1.2.3"))
        XCTAssertEqual(s.instances, 6)
        XCTAssertEqual(s.state, .receiving)
        XCTAssertEqual(s.descriptors.echoTime, 96.5)
        XCTAssertEqual(s.descriptors.imageOrientationPatient, [0, 1, 0, 0, 0, -1])
        XCTAssertEqual(s.lastInstanceAt.timeIntervalSince1970, t0.addingTimeInterval(6).timeIntervalSince1970, accuracy: 1e-5)
        XCTAssertEqual(try index.indexedPaths().count, 6)
    }

    /// What DICOMweb searches and retrieves: exact matching on each key, in series and instance order.
    func testObjectsMatchEachKeyExactly() throws {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        try index.index([record("1.2.3.2", at: t0), record("1.2.3.1", at: t0), record("1.2.9.1", series: "1.2.9", at: t0)])
        XCTAssertEqual(try index.objects(matching: ObjectQuery()).map(\.sopInstanceUID), ["1.2.3.1", "1.2.3.2", "1.2.9.1"])
        let one = try XCTUnwrap(try index.objects(matching: ObjectQuery(sopInstanceUID: "1.2.3.2")).first)
        XCTAssertEqual(one, StoredObject(origin: .received, studyInstanceUID: "1.2", seriesInstanceUID: "1.2.3", sopInstanceUID: "1.2.3.2",
                                         sopClassUID: "1.2.840.10008.5.1.4.1.1.4", path: "/spool/1.2/1.2.3/1.2.3.2.dcm",
                                         transferSyntaxUID: "1.2.840.10008.1.2.1", instanceNumber: 2, patientID: "P1",
                                         modality: "MR", seriesDescription: "T2_TSE_SAG"))
        XCTAssertEqual(try index.objects(matching: ObjectQuery(seriesInstanceUID: "1.2.9")).count, 1)
        XCTAssertEqual(try index.objects(matching: ObjectQuery(studyInstanceUID: "1.2", modality: "MR", patientID: "P1")).count, 3)
        XCTAssertEqual(try index.objects(matching: ObjectQuery(modality: "CT")).count, 0)
        XCTAssertEqual(try index.objects(matching: ObjectQuery(accessionNumber: "A%")).count, 0, "no pattern matching")
        XCTAssertEqual(try index.objects(matching: ObjectQuery(patientID: "P1' OR '1'='1")).count, 0, "parameters, not SQL")
    }

    func testQuietSeriesCompleteWithTheirRouteAndLateInstancesReopen() throws {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        try index.index([record("1.2.3.1", at: t0), record("1.2.9.1", series: "1.2.9", at: t0.addingTimeInterval(20))])
        // Only the first series has been quiet since before the cutoff.
        let done = try index.completeQuietSeries(quietSince: t0.addingTimeInterval(10), now: t0.addingTimeInterval(10)) { _ in
            (.localizer, "matched rule test")
        }
        XCTAssertEqual(done.map(\.seriesInstanceUID), ["1.2.3"])
        var s = try XCTUnwrap(try index.series(uid: "1.2.3"))
        XCTAssertEqual(s.state, .complete)
        XCTAssertEqual(s.route, .localizer)
        XCTAssertEqual(s.reason, "matched rule test")
        XCTAssertEqual(s.revision, 0)

        // A late instance reopens it; a duplicate does not.
        try index.index([record("1.2.3.1", at: t0.addingTimeInterval(30))])
        XCTAssertEqual(try index.series(uid: "1.2.3")?.state, .complete)
        try index.index([record("1.2.3.2", at: t0.addingTimeInterval(30))])
        s = try XCTUnwrap(try index.series(uid: "1.2.3"))
        XCTAssertEqual(s.state, .receiving)
        XCTAssertEqual(s.revision, 1)
        XCTAssertEqual(s.instances, 2)
        XCTAssertNil(s.completedAt)
    }

    func testPurgeForgetsInstancesOnlyOfCompleteSeries() throws {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        try index.index([record("1.2.3.1", at: t0), record("1.2.3.2", at: t0)])
        var removed: [String] = []
        XCTAssertNil(try index.purge(seriesInstanceUID: "1.2.3", reason: .ignoredRetention, at: t0) { removed += $0 }, "still receiving")
        XCTAssertEqual(removed, [])
        try index.completeQuietSeries(quietSince: t0.addingTimeInterval(1), now: t0.addingTimeInterval(1)) { _ in (.ignored, "axial") }
        let early = t0.addingTimeInterval(-1)
        XCTAssertEqual(try index.seriesToPurge(ignoredCompletedBefore: t0, receivedBefore: early), [])
        XCTAssertEqual(try index.seriesToPurge(ignoredCompletedBefore: t0.addingTimeInterval(5), receivedBefore: early)
            .map(\.seriesInstanceUID), ["1.2.3"])
        XCTAssertEqual(try index.seriesToPurge(ignoredCompletedBefore: early, receivedBefore: t0.addingTimeInterval(1))
            .map(\.seriesInstanceUID), ["1.2.3"], "received long enough ago")
        XCTAssertEqual(try index.seriesToPurge(ignoredCompletedBefore: early, receivedBefore: early, anyAge: true)
            .map(\.seriesInstanceUID), ["1.2.3"], "disk pressure: any age")
        let paths = try index.instancePaths(seriesInstanceUID: "1.2.3")
        XCTAssertEqual(paths.count, 2)
        XCTAssertEqual(try index.purge(seriesInstanceUID: "1.2.3", reason: .ignoredRetention, at: t0.addingTimeInterval(5)) { removed += $0 }, 2)
        XCTAssertEqual(Set(removed), Set(paths))
        var s = try XCTUnwrap(try index.series(uid: "1.2.3"))
        XCTAssertEqual(s.state, .purged)
        XCTAssertEqual(s.purgeReason, .ignoredRetention)
        XCTAssertEqual(try index.instancePaths(seriesInstanceUID: "1.2.3"), [])
        XCTAssertFalse(try index.isIndexed(sopInstanceUID: "1.2.3.1"))

        // A new instance: a new arrival, counted from itself; the row still says it was purged.
        try index.index([record("1.2.3.3", at: t0.addingTimeInterval(10))])
        s = try XCTUnwrap(try index.series(uid: "1.2.3"))
        XCTAssertEqual(s.state, .receiving)
        XCTAssertEqual(s.instances, 1)
        XCTAssertEqual(s.purgedAt, t0.addingTimeInterval(5))
        XCTAssertEqual(s.purgeReason, .ignoredRetention)
    }

    func testTimestampsRoundTripInUTC() {
        let d = Date(timeIntervalSince1970: 1_800_000_000.123456)
        let text = Timestamp.format(d)
        XCTAssertEqual(text, "2027-01-15 08:00:00.123456+00")
        XCTAssertEqual(Timestamp.parse(text)!.timeIntervalSince1970, d.timeIntervalSince1970, accuracy: 1e-6)
        XCTAssertEqual(Timestamp.parse("2027-01-15 09:00:00+01")!.timeIntervalSince1970, 1_800_000_000, accuracy: 1e-6)
    }

    func testConnectionErrorsNameTheServerNotThePassword() {
        XCTAssertThrowsError(try Connection(url: "postgresql://u:secret@/nodb?host=/nonexistent-dir")) { error in
            XCTAssertFalse("\(error)".contains("secret"))
            XCTAssertTrue("\(error)".contains("cannot connect"))
        }
    }
}

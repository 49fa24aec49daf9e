import DICOM
import Foundation
import Node
import Records
import Store
import TestSupport
import XCTest

/// The indexer's thread against a real PostgreSQL: batches, retry while the index cannot take a
/// batch, and what stop does with the queue.
final class IndexerTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let log = LogRecorder()

    /// `count` instances of one series, the first received at t0 (only the indexer's queueing and
    /// the index's rows matter here, not the files).
    func records(_ count: Int, series: String = "1.2.3") -> [InstanceRecord] {
        (1...count).map { i in
            InstanceRecord(sopInstanceUID: "\(series).\(i)", seriesInstanceUID: series, studyInstanceUID: "1.2",
                           sopClassUID: SOPClass.mrImageStorage, transferSyntaxUID: "1.2.840.10008.1.2.1", instanceNumber: i,
                           path: "/spool/1.2/\(series)/\(series).\(i).dcm", bytes: 1000, receivedAt: t0.addingTimeInterval(Double(i)),
                           callingAETitle: "PACS", series: SeriesDescriptors(modality: "MR", seriesDescription: "T2_TSE_SAG"))
        }
    }

    func indexedCount(_ index: InstanceIndex) throws -> Int {
        try index.database.withConnection { try $0.execute("SELECT count(*) AS n FROM instances").rows.first?.int("n") ?? -1 }
    }

    /// What was queued before the thread ran goes in batches of at most 500, one transaction each.
    func testQueueIsIndexedInBatches() throws {
        let index = InstanceIndex(database: try TestDatabase.migrated())
        let indexer = Indexer(index: index, logger: log.logger("indexer"))
        for r in records(501) { indexer.enqueue(r) }
        XCTAssertEqual(indexer.pendingCount, 501)
        XCTAssertEqual(indexer.pendingSeriesInstanceUIDs, ["1.2.3"])
        indexer.start()
        defer { indexer.stop(timeout: 5) }
        waitUntil("the queue drained") { indexer.pendingCount == 0 }
        XCTAssertEqual(indexer.pendingSeriesInstanceUIDs, [])
        XCTAssertEqual(try indexedCount(index), 501)
        XCTAssertEqual(log.entries("indexed").map { $0.metadata["instances"]?.description }, ["500", "1"])
        XCTAssertEqual(try index.series(uid: "1.2.3")?.instances, 501)
    }

    /// A batch the database refuses (here: the schema is not there yet) stays queued, counts as
    /// pending, and is indexed once the database takes it.
    func testRefusedBatchIsRetriedUntilIndexed() throws {
        let database = try TestDatabase.make()
        let index = InstanceIndex(database: database)
        let indexer = Indexer(index: index, logger: log.logger("indexer"))
        indexer.start()
        defer { indexer.stop(timeout: 5) }
        for r in records(3) { indexer.enqueue(r) }
        waitUntil("a failed attempt") { !log.entries("indexing failed; will retry").isEmpty }
        XCTAssertEqual(indexer.pendingCount, 3)
        XCTAssertEqual(indexer.pendingSeriesInstanceUIDs, ["1.2.3"], "pending instances still hold series completion back")

        try Migrations.apply(to: database)
        waitUntil("the queue drained after the retry") { indexer.pendingCount == 0 }
        XCTAssertEqual(try indexedCount(index), 3)
    }

    /// stop indexes what is queued before it returns.
    func testStopIndexesTheQueueFirst() throws {
        let index = InstanceIndex(database: try TestDatabase.migrated())
        let indexer = Indexer(index: index, logger: log.logger("indexer"))
        indexer.start()
        for r in records(40) { indexer.enqueue(r) }
        indexer.stop(timeout: 10)
        XCTAssertEqual(indexer.pendingCount, 0)
        XCTAssertEqual(try indexedCount(index), 40)
    }

    /// With the database refusing, stop gives up after its timeout and keeps the queue (the spool
    /// reconciliation indexes those files at the next start); nothing is reported indexed.
    func testStopWithTheDatabaseRefusingReturnsAfterItsTimeout() throws {
        let indexer = Indexer(index: InstanceIndex(database: try TestDatabase.make()), logger: log.logger("indexer"))
        indexer.start()
        for r in records(5) { indexer.enqueue(r) }
        waitUntil("a failed attempt") { !log.entries("indexing failed; will retry").isEmpty }
        let started = Date()
        indexer.stop(timeout: 0.5)
        let took = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(took, 0.5)
        XCTAssertLessThan(took, 3)
        XCTAssertEqual(indexer.pendingCount, 5)
        XCTAssertEqual(log.entries("index not drained at shutdown; the spool reconciliation will index the rest (at the next start, or by another node sharing the spool)")
            .first?.metadata["pending"]?.description, "5")
        XCTAssertEqual(log.entries("indexed").count, 0)
    }
}

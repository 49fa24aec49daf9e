import Foundation
@testable import Node
import Records
import Store
import TestSupport
import XCTest

/// Series completion on a real index: the quiet period, the default routing of the shared study's
/// two series, the analysis job in the completing transaction, and the indexer's backlog as activity.
final class SeriesAssemblerTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let quiet: TimeInterval = 10
    let model = ModelIdentity(name: "lstv-localizer", version: "test", sha256: String(repeating: "cd", count: 32))
    var index: InstanceIndex!
    var pipeline: Pipeline!
    var indexer: Indexer!
    var assembler: SeriesAssembler!
    var sagittal: [InstanceRecord] = []
    var axial: [InstanceRecord] = []

    override func setUpWithError() throws {
        let database = try TestDatabase.migrated()
        index = InstanceIndex(database: database)
        pipeline = Pipeline(database: database)
        let log = LogRecorder()
        indexer = Indexer(index: index, logger: log.logger("indexer"))
        assembler = SeriesAssembler(index: index, indexer: indexer, router: try RoutingConfiguration.default.compiled(),
                                    quietSeconds: quiet, logger: log.logger("assembler"))
        // Routing reads series attributes, the same in every instance: a few instances suffice.
        sagittal = try NodeFixtures.records(of: TestData.sagittalSeries, receivedAt: t0, limit: 3)
        axial = try NodeFixtures.records(of: TestData.axialSeries, receivedAt: t0, limit: 3)
    }

    var last: Date { sagittal.map(\.receivedAt).max()! }

    func testSeriesCompletesOnceAfterTheQuietPeriod() throws {
        try index.index(sagittal)
        let uid = sagittal[0].seriesInstanceUID
        XCTAssertEqual(try assembler.tick(now: last.addingTimeInterval(quiet - 0.1)).count, 0)
        XCTAssertEqual(try index.series(uid: uid)?.state, .receiving)

        let now = last.addingTimeInterval(quiet + 0.1)
        let done = try assembler.tick(now: now)
        XCTAssertEqual(done.map(\.seriesInstanceUID), [uid])
        let s = try XCTUnwrap(try index.series(uid: uid))
        XCTAssertEqual(s.state, .complete)
        XCTAssertEqual(s.instances, 3)
        XCTAssertEqual(s.route, .localizer)
        XCTAssertEqual(s.reason, "matched rule sagittal-t2-spine")
        XCTAssertEqual(try XCTUnwrap(s.completedAt).timeIntervalSince1970, now.timeIntervalSince1970, accuracy: 1e-5)
        XCTAssertEqual(try assembler.tick(now: now.addingTimeInterval(60)).count, 0, "completed twice")
        // No model loaded: a localizer series gets no job.
        XCTAssertEqual(try pipeline.analyses(seriesInstanceUID: uid).count, 0)
    }

    /// The sagittal T2 goes to the localizer with a job for the loaded model; the axial reformat is
    /// ignored with the rule's reasons. Each is reported after its transaction committed.
    func testRoutesAndQueuesTheAnalysisInTheCompletingTransaction() throws {
        try index.index(sagittal + axial)
        assembler.model = model
        var reported: [(SeriesRecord, SeriesState?)] = []
        assembler.onComplete = { s in reported.append((s, try? self.index.series(uid: s.seriesInstanceUID)?.state)) }
        let done = try assembler.tick(now: last.addingTimeInterval(quiet + 1))
        XCTAssertEqual(Set(done.map(\.seriesInstanceUID)), [sagittal[0].seriesInstanceUID, axial[0].seriesInstanceUID])
        XCTAssertEqual(reported.map(\.0.seriesInstanceUID), done.map(\.seriesInstanceUID))
        XCTAssertEqual(reported.map(\.1), [.complete, .complete], "seen complete from another connection: committed")

        let axialSeries = try XCTUnwrap(try index.series(uid: axial[0].seriesInstanceUID))
        XCTAssertEqual(axialSeries.route, .ignored)
        XCTAssertTrue(axialSeries.reason?.contains("plane is axial, not sagittal") ?? false, axialSeries.reason ?? "no reason")
        XCTAssertEqual(try pipeline.analyses(seriesInstanceUID: axial[0].seriesInstanceUID).count, 0)

        let jobs = try pipeline.analyses(seriesInstanceUID: sagittal[0].seriesInstanceUID)
        XCTAssertEqual(jobs.count, 1)
        XCTAssertEqual(jobs.first?["state"], "pending")
        XCTAssertEqual(jobs.first?["model_sha256"], model.sha256)
        XCTAssertEqual(jobs.first?.int("series_revision"), 0)
    }

    /// A late instance reopens the series; it completes again, with a job for its new revision.
    func testLateInstanceCompletesAgainWithANewJob() throws {
        assembler.model = model
        try index.index(Array(sagittal.prefix(2)))
        try assembler.tick(now: last.addingTimeInterval(quiet + 1))
        var late = sagittal[2]
        late.receivedAt = last.addingTimeInterval(100)
        try index.index([late])
        XCTAssertEqual(try assembler.tick(now: late.receivedAt.addingTimeInterval(quiet - 1)).count, 0)
        XCTAssertEqual(try assembler.tick(now: late.receivedAt.addingTimeInterval(quiet + 1)).map(\.revision), [1])
        let revisions = try pipeline.analyses(seriesInstanceUID: late.seriesInstanceUID).map { $0.int("series_revision") }
        XCTAssertEqual(revisions, [0, 1])
    }

    /// A sender still connected, pausing longer than the quiet period between two instances (a
    /// loaded sender, a slow link): its series stays receiving until the association ends.
    func testSeriesOfAnOpenAssociationWaitsForItsEnd() throws {
        try index.index(Array(sagittal.prefix(2)))
        var open: Set<String> = [sagittal[0].seriesInstanceUID]
        assembler.sending = { open }
        XCTAssertEqual(try assembler.tick(now: last.addingTimeInterval(quiet + 60)).count, 0)
        open = []
        XCTAssertEqual(try assembler.tick(now: last.addingTimeInterval(quiet + 60)).map(\.instances), [2])
    }

    /// An instance received but still in the indexer's queue is activity: the series it would
    /// extend does not complete until it is indexed.
    func testInstanceStillQueuedForTheIndexHoldsCompletionBack() throws {
        try index.index(Array(sagittal.suffix(2)))
        indexer.enqueue(sagittal[0])  // received first, indexed last
        let now = last.addingTimeInterval(quiet + 60)
        XCTAssertEqual(try assembler.tick(now: now).count, 0)

        indexer.start()
        defer { indexer.stop(timeout: 5) }
        waitUntil("the queued instance indexed") { indexer.pendingCount == 0 }
        let done = try assembler.tick(now: now)
        XCTAssertEqual(done.map(\.instances), [3])
    }

    /// The latest instance still queued (the database was down longer than the quiet period):
    /// the series waits for it instead of completing without it and being analysed twice.
    func testLatestInstanceStillQueuedHoldsCompletionBack() throws {
        try index.index(Array(sagittal.prefix(2)))
        indexer.enqueue(sagittal[2])  // received last
        XCTAssertEqual(try assembler.tick(now: last.addingTimeInterval(quiet + 5)).count, 0)

        indexer.start()
        defer { indexer.stop(timeout: 5) }
        waitUntil("the queued instance indexed") { indexer.pendingCount == 0 }
        let done = try assembler.tick(now: last.addingTimeInterval(quiet + 5))
        XCTAssertEqual(done.map(\.instances), [3])
        XCTAssertEqual(done.map(\.revision), [0], "completed once, with every instance")
    }
}

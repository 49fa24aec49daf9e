import Analysis
import Foundation
@testable import Node
import Records
@testable import Store
import TestSupport
import XCTest

/// The analysis worker with the bundled model on the shared study's sagittal series and a real
/// database: a queued job is claimed, analysed, its objects written and recorded with their
/// deliveries; a failure is recorded as such; results go to the sender and the fixed destinations.
final class AnalysisWorkerTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let pacs = DicomPeer(aeTitle: "PACS", host: "10.1.2.3", port: 104)
    let archive = DicomPeer(aeTitle: "ARCHIVE", host: "10.1.2.4", port: 11112)
    var configuration = NodeConfiguration()
    var database: Database!
    var index: InstanceIndex!
    var pipeline: Pipeline!
    let log = LogRecorder()

    override func setUpWithError() throws {
        configuration = try NodeFixtures.configuration()
        configuration.peers = [pacs]
        configuration.results.destinations = [archive]
        database = try TestDatabase.migrated()
        index = InstanceIndex(database: database)
        pipeline = Pipeline(database: database)
    }

    func makeWorker() throws -> AnalysisWorker {
        let model = try NodeFixtures.model.get()
        var builder = try ResultBuilder(configuration: configuration)
        builder.installation = try pipeline.installationUUID()
        return AnalysisWorker(pipeline: pipeline, index: index, model: model, locatorModel: nil, configuration: configuration,
                              router: try configuration.routing.compiled(),
                              builder: builder, logger: log.logger("analysis"))
    }

    /// Completes every receiving series to the localizer, queueing its job for `model`.
    func complete(model: ModelIdentity) throws {
        try index.completeQuietSeries(quietSince: t0.addingTimeInterval(3600), now: t0.addingTimeInterval(3600), model: model) { _ in
            (.localizer, "test")
        }
    }

    func rows(_ sql: String, _ parameters: [String?] = []) throws -> [Row] {
        try database.withConnection { try $0.execute(sql, parameters).rows }
    }

    /// The worker's thread claims the job for its model (never one queued for another model),
    /// writes the SR and key image, and records result, flags and one delivery per destination.
    func testQueuedJobIsClaimedAnalysedAndRecorded() throws {
        let worker = try makeWorker()
        let series = try NodeFixtures.records(of: TestData.sagittalSeries, receivedAt: t0)
        try index.index(series)
        // Queued first, so the lower id: a claim that ignored the model would take it first.
        let other = ModelIdentity(name: "other", version: "1", sha256: String(repeating: "ef", count: 32))
        try database.withConnection {
            try Pipeline.queueAnalysis($0, seriesInstanceUID: series[0].seriesInstanceUID, revision: 0, model: other, now: t0)
        }
        try complete(model: ModelIdentity(worker.model))
        let finished = NSCondition()
        var finishedCount = 0
        worker.onFinished = { finished.lock(); finishedCount += 1; finished.unlock() }

        try worker.start(owner: try ClaimOwner(database: pipeline.database))
        worker.nudge()
        let state = { try self.rows("SELECT state FROM analyses WHERE model_sha256 = $1", [worker.model.sha256]).first?["state"] }
        try waitUntil("the analysis done", timeout: 60) { try state() == "done" }
        let started = Date()
        worker.stop(timeout: 30)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "stop waited for its timeout: a thread did not end")

        finished.lock(); XCTAssertEqual(finishedCount, 1); finished.unlock()
        XCTAssertEqual(try rows("SELECT state, attempts FROM analyses WHERE model_sha256 = $1", [other.sha256]).map { [$0["state"], $0["attempts"]] },
                       [["pending", "0"]])
        let results = try rows("SELECT kind, path, sop_instance_uid FROM results ORDER BY kind")
        XCTAssertEqual(results.map { $0["kind"] }, ResultKind.allCases.map(\.rawValue).sorted())
        for r in results {
            XCTAssertTrue(FileManager.default.fileExists(atPath: r["path"]!), "result file missing: \(r["path"]!)")
        }
        let deliveries = try pipeline.outbox()
        XCTAssertEqual(deliveries.count, 2 * results.count, "each result to each of the two destinations")
        XCTAssertEqual(Set(deliveries.map(\.destination)), [pacs, archive])
        XCTAssertEqual(Set(deliveries.map(\.sopInstanceUID)), Set(results.compactMap { $0["sop_instance_uid"] }))
        let flags = try XCTUnwrap(try pipeline.flags(since: nil, risk: nil).first)
        XCTAssertEqual(flags["series_instance_uid"], series[0].seriesInstanceUID)
        XCTAssertTrue(["low", "medium", "high"].contains(flags["risk"] ?? ""), "risk \(flags["risk"] ?? "nil")")
    }

    /// An analysis that throws (the indexed files are gone) is recorded failed with its error;
    /// nothing is written or delivered and the outbox is not nudged.
    func testAnalysisThatFailsIsRecordedFailed() throws {
        let worker = try makeWorker()
        var finished = 0
        worker.onFinished = { finished += 1 }
        let gone = try NodeFixtures.records(of: TestData.sagittalSeries, receivedAt: t0, limit: 2).map {
            var r = $0
            r.path = "/nonexistent" + r.path
            return r
        }
        try index.index(gone)
        try complete(model: ModelIdentity(worker.model))
        let owner = try ClaimOwner(database: pipeline.database)
        let job = try XCTUnwrap(try pipeline.claimAnalysis(now: t0, modelSHA256: worker.model.sha256, owner: owner.id))
        worker.run(job, try NodeFixtures.analyzer(configuration))

        let row = try XCTUnwrap(try rows("SELECT state, error, finished_at FROM analyses WHERE id = $1", [String(job.id)]).first)
        XCTAssertEqual(row["state"], "failed")
        // Every instance unreadable: too few usable slices, each named with its reason.
        let error = row["error"] ?? "no error recorded"
        XCTAssertTrue(error.hasPrefix("only 0 of 2 instances usable"), error)
        for r in gone { XCTAssertTrue(error.contains("\(r.sopInstanceUID): cannot be read: cannot read DICOM file"), error) }
        XCTAssertNotNil(row["finished_at"])
        XCTAssertEqual(try rows("SELECT id FROM results").count, 0)
        XCTAssertEqual(finished, 0)
        XCTAssertEqual(log.entries("analysis failed").map { $0.metadata["error"]?.description }, [row["error"]])
    }

    func series(callingAETitle: String?) -> SeriesRecord {
        SeriesRecord(seriesInstanceUID: "1.2.3", studyInstanceUID: "1.2", sopClassUID: nil, descriptors: SeriesDescriptors(),
                     callingAETitle: callingAETitle, instances: 1, state: .complete, route: .localizer, reason: nil, revision: 0,
                     firstInstanceAt: t0, lastInstanceAt: t0, completedAt: t0)
    }

    /// The sender, looked up among the peers by its calling AE title, then the fixed destinations,
    /// each once.
    func testDestinationsAreTheKnownSenderThenTheFixedOnes() throws {
        configuration.results.destinations = [archive, pacs]
        let worker = try makeWorker()
        XCTAssertEqual(worker.destinations(for: series(callingAETitle: "PACS")), [pacs, archive])
        XCTAssertEqual(worker.destinations(for: series(callingAETitle: nil)), [archive, pacs])
    }

    func testUnknownSenderIsNotSentToAndIsLogged() throws {
        let worker = try makeWorker()
        XCTAssertEqual(worker.destinations(for: series(callingAETitle: "MODALITY")), [archive])
        XCTAssertEqual(log.entries("sender not in peers; results not sent back to it").first?.metadata["calling_ae"]?.description,
                       "MODALITY")
    }

    func testSendToSenderOff() throws {
        configuration.results.sendToSender = false
        XCTAssertEqual(try makeWorker().destinations(for: series(callingAETitle: "PACS")), [archive])
        configuration.results.destinations = []
        XCTAssertEqual(try makeWorker().destinations(for: series(callingAETitle: "PACS")), [])
    }
}

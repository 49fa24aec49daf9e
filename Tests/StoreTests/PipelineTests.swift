import Crypto
import Foundation
import Records
@testable import Store
import TestSupport
import XCTest

final class PipelineTests: XCTestCase {
    var database: Database!
    var index: InstanceIndex!
    var pipeline: Pipeline!
    var owner: ClaimOwner?
    let model = ModelIdentity(name: "lstv-localizer", version: "1.3.0", sha256: String(repeating: "ab", count: 32))
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    override func setUpWithError() throws {
        database = try TestDatabase.make()
        index = InstanceIndex(database: database)
        pipeline = Pipeline(database: database)
    }

    /// A released migration is never edited: databases already at that version would never see the change.
    func testReleasedMigrationsAreUnchanged() {
        let released = [
            1: "24f85690fb404605781f20f580e2a07a9238be37e745347043381ce05dda97d0",
            2: "6cbb9ebca763a02b095c0cab2bb6860defd02925d84379b45b38971eb852654a",
            3: "ddba6039d7d64737699b284ef5756587fbddb314d0ab28c8b98bc49f4e1291d7",
            4: "87d654b354ec74eceb73fbd94c97b65fe5f7f16095273ab5c6de85c9823b1266",
            5: "98961886f619e32b619d5dc0495b474b5736f60b82d5e21b1ab22bd70562fcb4",
            6: "c88a383e65d1d34212fb6d76b810bb0663009a6440edc961d8aa607c0a9fe946",
            7: "03d98e340557d0f0370335e886c5f781e45f3ceacedb55ead1003f4ae70e1895",
            8: "6e2145768c44ad0cf791d86b7f219ba00c4a71b4339894f3b6536e16ed5bab18",
        ]
        for m in Migrations.all where released[m.version] != nil {
            let digest = SHA256.hash(data: Array(m.sql.utf8)).map { String(format: "%02x", $0) }.joined()
            XCTAssertEqual(digest, released[m.version], "migration \(m.version) (\(m.name)) was edited")
        }
        XCTAssertEqual(Migrations.all.map(\.version), Array(1...Migrations.all.count))
    }

    func flags(risk: String = "high", suspicion: Double = 4.25, count: Int? = 6) -> AnalysisFlags {
        let levels = Dictionary(uniqueKeysWithValues: FlagsView.levels.enumerated().map { i, name in
            (name, AnalysisFlags.Level(confidence: 0.9 - Double(i) / 100, entropy: 5 + Double(i) / 10, spatialEntropy: 1.5))
        })
        return AnalysisFlags(risk: risk, ladderStatus: "consistent", riskEntropy: 5.4, levels: levels, lstvSuspicion: suspicion,
                             suspicionScale: "normal_sd", lumbarCount: count, lumbarCountProbability: count == nil ? nil : 0.8,
                             junctionState: "narrow", riskThresholdOrigin: "model", suspicionReasons: ["six lumbar", "narrow junction"])
    }

    /// Completes one localizer series; its job is queued in the same transaction, then claimed
    /// (by `owner`, or by a claim owner of the test's own).
    func completedJob(series: String = "1.2.3", owner: ClaimOwner? = nil) throws -> AnalysisJob {
        try completeSeries(series)
        if owner == nil && self.owner == nil { self.owner = try ClaimOwner(database: database) }
        return try XCTUnwrap(try pipeline.claimAnalysis(now: t0.addingTimeInterval(11), modelSHA256: model.sha256,
                                                         owner: (owner ?? self.owner!).id))
    }

    /// Completes one localizer series; its job is queued in the same transaction.
    func completeSeries(_ series: String = "1.2.3") throws {
        try index.index([InstanceRecord(sopInstanceUID: series + ".1", seriesInstanceUID: series, studyInstanceUID: "1.2",
                                        sopClassUID: "1.2.840.10008.5.1.4.1.1.4", transferSyntaxUID: "1.2.840.10008.1.2.1",
                                        instanceNumber: 1, path: "/spool/\(series).1.dcm", bytes: 10, receivedAt: t0,
                                        callingAETitle: "PACS", series: SeriesDescriptors(accessionNumber: "00123"))])
        try index.completeQuietSeries(quietSince: t0.addingTimeInterval(10), now: t0.addingTimeInterval(10), model: model) { _ in
            (.localizer, "test")
        }
    }

    /// Two node processes on one database: a live owner's running job is never taken back; a gone
    /// owner's is, at once (its session's advisory lock is released), and the gone owner's late
    /// result is refused instead of being recorded beside the new claim's.
    func testOnlyAGoneOwnersClaimsAreTakenBack() throws {
        try Migrations.apply(to: database)
        let live = try ClaimOwner(database: database)
        var gone: ClaimOwner? = try ClaimOwner(database: database)
        XCTAssertNotEqual(live.id, gone!.id)
        let kept = try completedJob(series: "1.2.3", owner: live)
        let lost = try completedJob(series: "1.2.4", owner: gone!)
        XCTAssertEqual(try pipeline.releaseAbandoned().analyses, 0, "both owners live")
        gone = nil  // the process ends: PostgreSQL ends its session and releases the lock
        var released = 0
        try waitUntil("the gone owner's claim taken back") {
            released += try pipeline.releaseAbandoned().analyses
            return released > 0
        }
        XCTAssertEqual(released, 1)
        let states = try database.withConnection { c in
            try c.execute("SELECT id, state, claimed_by FROM analyses ORDER BY id").rows.map { [$0["id"], $0["state"], $0["claimed_by"]] }
        }
        XCTAssertEqual(states, [[String(kept.id), "running", String(live.id)], [String(lost.id), "pending", nil]])
        XCTAssertThrowsError(try pipeline.finish(job: lost, resultJSON: "{}", flags: flags(), results: [], destinations: [],
                                                 now: t0.addingTimeInterval(20))) { XCTAssertTrue($0 is ClaimLost, "\($0)") }
        let again = try XCTUnwrap(try pipeline.claimAnalysis(now: t0.addingTimeInterval(21), modelSHA256: model.sha256, owner: live.id))
        XCTAssertEqual(again.id, lost.id)
        XCTAssertEqual(again.attempts, 2)
        try pipeline.finish(job: again, resultJSON: "{}", flags: flags(), results: [], destinations: [], now: t0.addingTimeInterval(22))
        try pipeline.finish(job: kept, resultJSON: "{}", flags: flags(), results: [], destinations: [], now: t0.addingTimeInterval(23))
    }

    func view() throws -> Row {
        try XCTUnwrap(try pipeline.flags(since: nil, risk: nil).first)
    }

    /// Completion queues the job for the loaded model; finishing writes typed columns the view returns as such.
    func testFinishedAnalysisFillsTypedViewColumns() throws {
        try Migrations.apply(to: database)
        let job = try completedJob()
        XCTAssertEqual(job.model, model)
        XCTAssertEqual(job.seriesRevision, 0)
        try pipeline.finish(job: job, resultJSON: #"{"note": "typed columns do not read this"}"#, flags: flags(),
                            results: [], destinations: [], now: t0.addingTimeInterval(12))
        let row = try view()
        XCTAssertEqual(row["risk"], "high")
        XCTAssertEqual(row.double("lstv_suspicion"), 4.25)
        XCTAssertEqual(row.int("lumbar_count"), 6)
        XCTAssertEqual(row.double("l3_l4_confidence"), 0.88)
        XCTAssertEqual(row.double("l5_s1_risk_entropy"), 5.4)
        XCTAssertEqual(row["suspicion_reasons"], "six lumbar | narrow junction")
        XCTAssertEqual(row["accession_number"], "00123")
        let types = try database.withConnection { c in
            try c.execute("""
                SELECT pg_typeof(lstv_suspicion)::text AS s, pg_typeof(lumbar_count)::text AS c, pg_typeof(junction_state)::text AS j
                FROM lstv_flags
                """).rows.first
        }
        XCTAssertEqual(types?["s"], "double precision")
        XCTAssertEqual(types?["c"], "integer")
        XCTAssertEqual(types?["j"], "text")
    }

    /// An analysed series' received files may go only once its analysis is finished and every
    /// delivery of its results is sent or dead.
    func testAnalysedSeriesIsPurgeableOnlyOnceDelivered() throws {
        try Migrations.apply(to: database)
        let late = t0.addingTimeInterval(3600)
        func purgeable() throws -> [String] {
            try index.seriesToPurge(ignoredCompletedBefore: late, receivedBefore: late).map(\.seriesInstanceUID)
        }
        let job = try completedJob()
        XCTAssertEqual(try purgeable(), [], "analysis running")
        let peers = [DicomPeer(aeTitle: "PACS", host: "127.0.0.1", port: 104), DicomPeer(aeTitle: "ARCHIVE", host: "127.0.0.1", port: 105)]
        try pipeline.finish(job: job, resultJSON: "{}", flags: flags(), results: [
            ResultRecord(kind: .sr, sopClassUID: "1.2.840.10008.5.1.4.1.1.88.34", sopInstanceUID: "2.25.9",
                         seriesInstanceUID: "2.25.8", path: "/results/1/sr.dcm", predecessorSOPInstanceUID: nil),
        ], destinations: peers, now: t0.addingTimeInterval(12))
        XCTAssertEqual(try purgeable(), [], "deliveries pending")
        let deliveries = try pipeline.claimDeliveries(now: late, owner: try XCTUnwrap(owner).id)
        XCTAssertEqual(deliveries.count, 2)
        XCTAssertEqual(try purgeable(), [], "deliveries being sent")
        try pipeline.markSent(deliveries[0], status: "0000", now: late)
        XCTAssertEqual(try purgeable(), [], "one delivery still being sent")
        try pipeline.markDead(deliveries[1], status: "A700", error: "refused")
        XCTAssertEqual(try purgeable(), ["1.2.3"])
        XCTAssertEqual(try index.purge(seriesInstanceUID: "1.2.3", reason: .receivedRetention, at: late) { _ in }, 1)
        XCTAssertEqual(try pipeline.outbox().map(\.state), [.sent, .dead], "results and their deliveries stay")
    }

    /// An undetermined count and a non-finite figure are NULL, as the result JSON has them.
    func testAbsentAndNonFiniteValuesAreNull() throws {
        try Migrations.apply(to: database)
        let job = try completedJob()
        try pipeline.finish(job: job, resultJSON: "{}", flags: flags(suspicion: .nan, count: nil), results: [], destinations: [], now: t0)
        let row = try view()
        XCTAssertNil(row["lstv_suspicion"])
        XCTAssertNil(row["lumbar_count"])
        XCTAssertNil(row["lumbar_count_probability"])
        XCTAssertEqual(row["junction_state"], "narrow")
    }

    /// Upgrading a database whose analyses finished before migration 5 keeps their figures in the view.
    func testMigrationFiveCopiesEarlierAnalyses() throws {
        try Migrations.apply(to: database, upTo: 4)
        try completeSeries()  // not claimed: claims (migration 7) are later than this schema
        let json = #"{"risk_entropy": 5.5, "lstv_suspicion": 3.5, "levels": {"l5_s1": {"peak_confidence": 0.75, "entropy": 6, "spatial_entropy": 2}},"#
            + #" "suspicion": {"scale": "normal_sd", "lumbar_count": {"value": 4, "probability": null}, "reasons": ["four lumbar"]}}"#
        try database.withConnection { c in
            try c.execute("UPDATE analyses SET state = 'done', result = $2::jsonb, risk = 'medium', finished_at = now() WHERE series_instance_uid = $1",
                          ["1.2.3", json])
        }
        let before = try view()
        XCTAssertEqual(try Migrations.apply(to: database, upTo: 5), [5])
        let after = try view()
        for column in FlagsView.columns.map(\.name) {
            XCTAssertEqual(after[column], before[column], column)
        }
        XCTAssertEqual(after.int("lumbar_count"), 4)
        XCTAssertEqual(after.double("l5_s1_confidence"), 0.75)
        XCTAssertEqual(after["suspicion_reasons"], "four lumbar")
    }
}

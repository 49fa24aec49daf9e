import Foundation
import Records

public struct AnalysisJob: Sendable {
    public var id: Int64
    public var seriesInstanceUID: String
    public var seriesRevision: Int
    public var attempts: Int
    public var model: ModelIdentity
    /// The claim owner (`ClaimOwner.id`) it was claimed under: it is recorded only while that claim stands.
    public var claimant: Int32
}

/// Work claimed under an owner number that was taken back (the owner's lock session ended): its
/// outcome is not recorded, another claim does it again.
public struct ClaimLost: Error, CustomStringConvertible {
    public let what: String
    public var description: String { "\(what): claim taken back (this process's claim session ended); left to the new claim" }
}

/// What a produced object is (`results.kind`).
public enum ResultKind: String, Sendable, Codable, CaseIterable {
    case sr
    case keyImage = "key_image"
    case keyObjectSelection = "kos"
}

/// Where a delivery stands (`outbox.state`; the table's CHECK constraint names the same four).
public enum OutboxState: String, Sendable, Codable, CaseIterable {
    case pending, sending, sent, dead
}

/// A produced DICOM object waiting to be recorded with its analysis.
public struct ResultRecord: Sendable {
    public var kind: ResultKind
    public var sopClassUID: String
    public var sopInstanceUID: String
    public var seriesInstanceUID: String
    public var path: String
    public var predecessorSOPInstanceUID: String?
    public init(kind: ResultKind, sopClassUID: String, sopInstanceUID: String, seriesInstanceUID: String, path: String,
                predecessorSOPInstanceUID: String?) {
        self.kind = kind; self.sopClassUID = sopClassUID; self.sopInstanceUID = sopInstanceUID
        self.seriesInstanceUID = seriesInstanceUID; self.path = path; self.predecessorSOPInstanceUID = predecessorSOPInstanceUID
    }
}

public struct OutboxItem: Sendable {
    public var id: Int64
    public var resultID: Int64
    public var kind: ResultKind
    public var path: String
    public var sopInstanceUID: String
    public var destination: DicomPeer
    public var state: OutboxState
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastStatus: String?
    public var lastError: String?
    public var sentAt: Date?
    public var seriesInstanceUID: String
    /// The claim owner of a delivery being sent (`ClaimOwner.id`), nil otherwise.
    public var claimant: Int32?

    public init(id: Int64, resultID: Int64, kind: ResultKind, path: String, sopInstanceUID: String, destination: DicomPeer,
                state: OutboxState, attempts: Int, nextAttemptAt: Date, lastStatus: String?, lastError: String?, sentAt: Date?,
                seriesInstanceUID: String, claimant: Int32? = nil) {
        self.id = id; self.resultID = resultID; self.kind = kind; self.path = path; self.sopInstanceUID = sopInstanceUID
        self.destination = destination; self.state = state; self.attempts = attempts; self.nextAttemptAt = nextAttemptAt
        self.lastStatus = lastStatus; self.lastError = lastError; self.sentAt = sentAt; self.seriesInstanceUID = seriesInstanceUID
        self.claimant = claimant
    }
}

/// Analysis jobs, produced results and their delivery: every step a row, so a restart resumes.
public struct Pipeline: Sendable {
    public let database: Database
    public init(database: Database) { self.database = database }

    /// This database's installation UUID (migration 3): the root of derived UIDs.
    public func installationUUID() throws -> String {
        try database.withConnection { c in
            guard let u = try c.execute("SELECT uuid FROM installation").rows.first?["uuid"] else {
                throw StoreError("installation identity missing: run `lstv-node db migrate`")
            }
            return u
        }
    }

    /// Queues the analysis of one revision of a series, on the caller's connection: the series'
    /// completion and its job commit together. A job already queued for that revision and model stays.
    static func queueAnalysis(_ c: Connection, seriesInstanceUID: String, revision: Int, model: ModelIdentity, now: Date) throws {
        try c.execute("""
            INSERT INTO analyses (series_instance_uid, series_revision, model_name, model_version, model_sha256, created_at)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING
            """, [seriesInstanceUID, String(revision), model.name, model.version, model.sha256, Timestamp.format(now)])
    }

    /// Work marked in progress whose owner is gone (killed, crashed, its session ended: see
    /// `ClaimOwner`) is pending again; work of a live owner, this process or another node, stays.
    public func releaseAbandoned() throws -> (analyses: Int, deliveries: Int) {
        try database.transaction { c in
            let a = try c.execute("""
                UPDATE analyses SET state = 'pending', claimed_by = NULL
                WHERE state = 'running' AND (claimed_by IS NULL OR claimed_by NOT IN (\(ClaimOwner.liveOwnersSQL)))
                """).affectedRows
            let o = try c.execute("""
                UPDATE outbox SET state = '\(OutboxState.pending.rawValue)', claimed_by = NULL
                WHERE state = '\(OutboxState.sending.rawValue)' AND (claimed_by IS NULL OR claimed_by NOT IN (\(ClaimOwner.liveOwnersSQL)))
                """).affectedRows
            return (a, o)
        }
    }

    /// The next pending analysis for the loaded model, marked running. Jobs queued for another
    /// model (before a model change) wait for a node running that model.
    public func claimAnalysis(now: Date, modelSHA256: String, owner: Int32) throws -> AnalysisJob? {
        try database.withConnection { c in
            try c.execute("""
                UPDATE analyses SET state = 'running', started_at = $1, attempts = attempts + 1, claimed_by = $3
                WHERE id = (SELECT id FROM analyses WHERE state = 'pending' AND model_sha256 = $2
                            ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
                RETURNING id, series_instance_uid, series_revision, attempts, model_name, model_version, model_sha256
                """, [Timestamp.format(now), modelSHA256, String(owner)]).rows.first.map {
                AnalysisJob(id: Int64($0["id"]!)!, seriesInstanceUID: $0["series_instance_uid"]!,
                            seriesRevision: $0.int("series_revision")!, attempts: $0.int("attempts")!,
                            model: ModelIdentity(name: $0["model_name"]!, version: $0["model_version"]!, sha256: $0["model_sha256"]!),
                            claimant: owner)
            }
        }
    }

    /// Records a finished analysis (its result, its typed flags), its results and one outbox row
    /// per (result, destination), atomically; nothing when the job's claim was taken back (`ClaimLost`).
    public func finish(job: AnalysisJob, resultJSON: String, flags: AnalysisFlags,
                       results: [ResultRecord], destinations: [DicomPeer], now: Date) throws {
        try database.transaction { c in
            let at = Timestamp.format(now)
            guard try c.execute("""
                UPDATE analyses SET state = 'done', result = $2::jsonb, risk = $3, ladder_status = $4, finished_at = $5, error = NULL,
                                    claimed_by = NULL
                WHERE id = $1 AND state = 'running' AND claimed_by = $6
                """, [String(job.id), resultJSON, flags.risk, flags.ladderStatus, at, String(job.claimant)]).affectedRows == 1 else {
                throw ClaimLost(what: "analysis \(job.id)")
            }
            try FlagsView.write(c, analysisID: job.id, flags)
            for r in results {
                let id = try c.execute("""
                    INSERT INTO results (analysis_id, kind, sop_class_uid, sop_instance_uid, series_instance_uid, path,
                                         predecessor_sop_instance_uid, created_at)
                    VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
                    ON CONFLICT (sop_instance_uid) DO UPDATE SET path = EXCLUDED.path
                    RETURNING id
                    """, [String(job.id), r.kind.rawValue, r.sopClassUID, r.sopInstanceUID, r.seriesInstanceUID, r.path,
                          r.predecessorSOPInstanceUID, at]).rows.first!["id"]!
                for d in destinations {
                    try c.execute("""
                        INSERT INTO outbox (result_id, destination_ae, destination_host, destination_port, next_attempt_at, created_at)
                        VALUES ($1,$2,$3,$4,$5,$5) ON CONFLICT DO NOTHING
                        """, [id, d.aeTitle, d.host, String(d.port), at])
                }
            }
        }
    }

    public func fail(job: AnalysisJob, error: String, now: Date) throws {
        try database.withConnection { c in
            guard try c.execute("""
                UPDATE analyses SET state = 'failed', error = $2, finished_at = $3, claimed_by = NULL
                WHERE id = $1 AND state = 'running' AND claimed_by = $4
                """, [String(job.id), error, Timestamp.format(now), String(job.claimant)]).affectedRows == 1 else {
                throw ClaimLost(what: "analysis \(job.id)")
            }
        }
    }

    /// The SR of the most recent finished analysis of the series (a revised SR references it).
    public func latestReport(seriesInstanceUID: String, excludingAnalysis id: Int64) throws -> (sopClassUID: String, sopInstanceUID: String, seriesInstanceUID: String)? {
        try database.withConnection { c in
            try c.execute("""
                SELECT r.sop_class_uid, r.sop_instance_uid, r.series_instance_uid FROM results r JOIN analyses a ON a.id = r.analysis_id
                WHERE a.series_instance_uid = $1 AND a.state = 'done' AND r.kind = 'sr' AND a.id <> $2
                ORDER BY a.finished_at DESC, a.id DESC LIMIT 1
                """, [seriesInstanceUID, String(id)]).rows.first.map {
                ($0["sop_class_uid"]!, $0["sop_instance_uid"]!, $0["series_instance_uid"]!)
            }
        }
    }

    /// The SRs and key images the node made, in the study of the series each analysed, matching
    /// `query` except its modality (a result's modality is in its file, not in a table); oldest first.
    public func resultObjects(matching query: ObjectQuery) throws -> [StoredObject] {
        try database.withConnection { c in
            try c.execute("""
                SELECT r.kind, r.sop_instance_uid, r.sop_class_uid, r.series_instance_uid, r.path, s.study_instance_uid,
                       s.patient_id, s.accession_number, s.study_date
                FROM results r JOIN analyses a ON a.id = r.analysis_id JOIN series s ON s.series_instance_uid = a.series_instance_uid
                WHERE ($1::text IS NULL OR s.study_instance_uid = $1) AND ($2::text IS NULL OR r.series_instance_uid = $2)
                  AND ($3::text IS NULL OR r.sop_instance_uid = $3)
                  AND ($4::text IS NULL OR s.accession_number = $4) AND ($5::text IS NULL OR s.patient_id = $5)
                ORDER BY r.id
                """, [query.studyInstanceUID, query.seriesInstanceUID, query.sopInstanceUID, query.accessionNumber,
                      query.patientID]).rows.map {
                StoredObject(origin: .result(ResultKind(rawValue: $0["kind"] ?? "") ?? .sr), studyInstanceUID: $0["study_instance_uid"]!,
                             seriesInstanceUID: $0["series_instance_uid"]!, sopInstanceUID: $0["sop_instance_uid"]!,
                             sopClassUID: $0["sop_class_uid"]!, path: $0["path"]!, patientID: $0["patient_id"],
                             accessionNumber: $0["accession_number"], studyDate: $0["study_date"])
            }
        }
    }

    /// Due deliveries, marked sending. Grouped by the caller per destination.
    public func claimDeliveries(now: Date, owner: Int32, limit: Int = 50) throws -> [OutboxItem] {
        try database.withConnection { c in
            try c.execute("""
                UPDATE outbox o SET state = '\(OutboxState.sending.rawValue)', claimed_by = $3
                FROM results r
                WHERE o.id IN (SELECT id FROM outbox WHERE state = '\(OutboxState.pending.rawValue)' AND next_attempt_at <= $1
                               ORDER BY next_attempt_at, id FOR UPDATE SKIP LOCKED LIMIT $2)
                  AND r.id = o.result_id
                RETURNING o.*, r.kind, r.path, r.sop_instance_uid, r.series_instance_uid
                """, [Timestamp.format(now), String(limit), String(owner)]).rows.map(OutboxItem.init(row:))
        }
    }

    /// The outcome of a delivery, recorded only while this claim on it stands (`ClaimLost` otherwise).
    public func markSent(_ item: OutboxItem, status: String, now: Date) throws {
        try recordOutcome(item, "state = '\(OutboxState.sent.rawValue)', last_status = $3, last_error = NULL, sent_at = $4",
                          [status, Timestamp.format(now)])
    }

    public func markRetry(_ item: OutboxItem, status: String?, error: String, next: Date) throws {
        try recordOutcome(item, "state = '\(OutboxState.pending.rawValue)', last_status = $3, last_error = $4, next_attempt_at = $5",
                          [status, error, Timestamp.format(next)])
    }

    public func markDead(_ item: OutboxItem, status: String?, error: String) throws {
        try recordOutcome(item, "state = '\(OutboxState.dead.rawValue)', last_status = $3, last_error = $4", [status, error])
    }

    /// `assignments` uses $3 onwards; $1 is the row, $2 the claim.
    private func recordOutcome(_ item: OutboxItem, _ assignments: String, _ values: [String?]) throws {
        try database.withConnection { c in
            guard try c.execute("""
                UPDATE outbox SET \(assignments), attempts = attempts + 1, claimed_by = NULL
                WHERE id = $1 AND state = '\(OutboxState.sending.rawValue)' AND claimed_by = $2
                """, [String(item.id), item.claimant.map(String.init)] + values).affectedRows == 1 else {
                throw ClaimLost(what: "delivery \(item.id)")
            }
        }
    }

    public func outbox() throws -> [OutboxItem] {
        try database.withConnection { c in
            try c.execute("""
                SELECT o.*, r.kind, r.path, r.sop_instance_uid, r.series_instance_uid FROM outbox o JOIN results r ON r.id = o.result_id
                ORDER BY o.id
                """).rows.map(OutboxItem.init(row:))
        }
    }

    /// `outbox retry ID`: a dead (or waiting) delivery is due now, with a fresh attempt budget.
    public func retry(outboxID: Int64, now: Date) throws -> Bool {
        try database.withConnection { c in
            try c.execute("""
                UPDATE outbox SET state = '\(OutboxState.pending.rawValue)', attempts = 0, next_attempt_at = $2
                WHERE id = $1 AND state IN ('\(OutboxState.dead.rawValue)', '\(OutboxState.pending.rawValue)')
                """, [String(outboxID), Timestamp.format(now)]).affectedRows == 1
        }
    }

    public func analyses(seriesInstanceUID: String) throws -> [Row] {
        try database.withConnection { c in
            try c.execute("SELECT * FROM analyses WHERE series_instance_uid = $1 ORDER BY id", [seriesInstanceUID]).rows
        }
    }

    /// Rows of the `lstv_flags` view since a time (of one series when `seriesInstanceUID` is
    /// given), oldest first, each with its key image's path (`key_image_path`, NULL when none was
    /// made): a cohort for calibration and reports, a series for its page.
    public func cohort(since: Date?, seriesInstanceUID: String? = nil) throws -> [Row] {
        try database.withConnection { c in
            try c.execute("""
                SELECT f.*, k.path AS key_image_path FROM lstv_flags f
                LEFT JOIN results k ON k.analysis_id = f.analysis_id AND k.kind = '\(ResultKind.keyImage.rawValue)'
                WHERE ($1::timestamptz IS NULL OR f.analysed_at >= $1::timestamptz)
                  AND ($2::text IS NULL OR f.series_instance_uid = $2)
                ORDER BY f.analysed_at, f.series_instance_uid
                """, [since.map(Timestamp.format), seriesInstanceUID]).rows
        }
    }

    /// Rows of the `lstv_flags` view, newest first; `limit`/`offset` page through them.
    public func flags(since: Date?, risk: String?, limit: Int? = nil, offset: Int = 0) throws -> [Row] {
        try flagsTable(since: since, risk: risk, limit: limit, offset: offset).rows
    }

    /// The same rows with the view's columns in their order (what an export writes).
    public func flagsTable(since: Date?, risk: String?, limit: Int? = nil, offset: Int = 0) throws -> (columns: [ResultColumn], rows: [Row]) {
        try database.withConnection { c in
            let r = try c.execute("""
                SELECT * FROM lstv_flags
                WHERE ($1::timestamptz IS NULL OR analysed_at >= $1::timestamptz) AND ($2::text IS NULL OR risk = $2)
                ORDER BY analysed_at DESC, series_instance_uid LIMIT $3 OFFSET $4
                """, [since.map(Timestamp.format), risk, limit.map(String.init), String(offset)])
            return (r.columns, r.rows)
        }
    }

    /// How many series and deliveries are in each state (the metrics gauges).
    public func stateCounts() throws -> (series: [String: Int], outbox: [String: Int]) {
        try database.withConnection { c in
            func counts(_ table: String) throws -> [String: Int] {
                Dictionary(uniqueKeysWithValues: try c.execute("SELECT state, count(*) AS n FROM \(table) GROUP BY state").rows.compactMap { r in
                    r["state"].map { ($0, r.int("n") ?? 0) }
                })
            }
            return (try counts("series"), try counts("outbox"))
        }
    }

    /// The deliveries of every result made from an analysed series, oldest first.
    public func deliveries(analysedSeries uid: String) throws -> [OutboxItem] {
        try database.withConnection { c in
            try c.execute("""
                SELECT o.*, r.kind, r.path, r.sop_instance_uid, r.series_instance_uid FROM outbox o
                JOIN results r ON r.id = o.result_id JOIN analyses a ON a.id = r.analysis_id
                WHERE a.series_instance_uid = $1 ORDER BY o.id
                """, [uid]).rows.map(OutboxItem.init(row:))
        }
    }
}

extension OutboxItem {
    init(row: Row) {
        self.init(id: Int64(row["id"]!)!, resultID: Int64(row["result_id"]!)!, kind: ResultKind(rawValue: row["kind"] ?? "") ?? .sr, path: row["path"] ?? "",
                  sopInstanceUID: row["sop_instance_uid"] ?? "",
                  destination: DicomPeer(aeTitle: row["destination_ae"]!, host: row["destination_host"]!, port: row.int("destination_port")!),
                  state: OutboxState(rawValue: row["state"] ?? "") ?? .pending, attempts: row.int("attempts") ?? 0, nextAttemptAt: row.date("next_attempt_at") ?? Date(),
                  lastStatus: row["last_status"], lastError: row["last_error"], sentAt: row.date("sent_at"),
                  seriesInstanceUID: row["series_instance_uid"] ?? "", claimant: row.int("claimed_by").map(Int32.init))
    }
}

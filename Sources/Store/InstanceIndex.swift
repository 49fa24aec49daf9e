import Foundation
import Records

/// What the index keeps of one received instance (and of its series, from the first instance).
public struct InstanceRecord: Sendable, Equatable {
    public var sopInstanceUID: String
    public var seriesInstanceUID: String
    public var studyInstanceUID: String
    public var sopClassUID: String
    public var transferSyntaxUID: String
    public var instanceNumber: Int?
    public var path: String
    public var bytes: Int64
    public var receivedAt: Date
    public var callingAETitle: String?
    public var series: SeriesDescriptors

    public init(sopInstanceUID: String, seriesInstanceUID: String, studyInstanceUID: String, sopClassUID: String,
                transferSyntaxUID: String, instanceNumber: Int?, path: String, bytes: Int64, receivedAt: Date,
                callingAETitle: String?, series: SeriesDescriptors) {
        self.sopInstanceUID = sopInstanceUID; self.seriesInstanceUID = seriesInstanceUID
        self.studyInstanceUID = studyInstanceUID; self.sopClassUID = sopClassUID
        self.transferSyntaxUID = transferSyntaxUID; self.instanceNumber = instanceNumber; self.path = path
        self.bytes = bytes; self.receivedAt = receivedAt; self.callingAETitle = callingAETitle; self.series = series
    }
}

/// One indexed instance: where it is and what it is.
public struct InstanceReference: Sendable, Equatable {
    public var path: String
    public var sopClassUID: String
    public var sopInstanceUID: String
    public var seriesInstanceUID: String
    public var studyInstanceUID: String
}

public enum SeriesState: String, Sendable, Codable, CaseIterable { case receiving, complete, purged }

public struct SeriesRecord: Sendable, Codable {
    public var seriesInstanceUID: String
    public var studyInstanceUID: String
    public var sopClassUID: String?
    public var descriptors: SeriesDescriptors
    public var callingAETitle: String?
    public var instances: Int
    public var state: SeriesState
    public var route: Route?
    public var reason: String?
    public var revision: Int
    public var firstInstanceAt: Date
    public var lastInstanceAt: Date
    public var completedAt: Date?
    /// When the received files were last purged, and why (kept when new instances reopen the series).
    public var purgedAt: Date?
    public var purgeReason: PurgeReason?
}

/// Instances and series in PostgreSQL.
public struct InstanceIndex: Sendable {
    public let database: Database
    public init(database: Database) { self.database = database }

    /// Indexes a batch in one transaction. Idempotent: an instance already indexed is skipped and
    /// leaves its series untouched. A new instance in a complete series reopens it.
    /// Returns how many instances were new.
    @discardableResult
    public func index(_ batch: [InstanceRecord]) throws -> Int {
        guard !batch.isEmpty else { return 0 }
        return try database.transaction { c in
            var added = 0
            for r in batch {
                let d = r.series
                let at = Timestamp.format(r.receivedAt)
                try c.execute("""
                    INSERT INTO series (series_instance_uid, study_instance_uid, patient_id, accession_number, study_date,
                        modality, sop_class_uid, series_description, protocol_name, series_number, image_type,
                        image_orientation, echo_time, repetition_time, slice_thickness, calling_ae_title,
                        first_instance_at, last_instance_at)
                    VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$17)
                    ON CONFLICT (series_instance_uid) DO NOTHING
                    """, [r.seriesInstanceUID, r.studyInstanceUID, d.patientID, d.accessionNumber, d.studyDate,
                          d.modality, r.sopClassUID, d.seriesDescription, d.protocolName, d.seriesNumber.map(String.init),
                          d.imageType.isEmpty ? nil : d.imageType.joined(separator: "\\"),
                          d.imageOrientationPatient.map { $0.map { String($0) }.joined(separator: "\\") },
                          d.echoTime.map { String($0) }, d.repetitionTime.map { String($0) },
                          d.sliceThickness.map { String($0) }, r.callingAETitle, at])
                let result = try c.execute("""
                    WITH added AS (
                        INSERT INTO instances (sop_instance_uid, series_instance_uid, study_instance_uid, sop_class_uid,
                            transfer_syntax_uid, instance_number, path, bytes, received_at, calling_ae_title)
                        VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
                        ON CONFLICT DO NOTHING
                        RETURNING series_instance_uid, received_at)
                    UPDATE series s SET
                        instances = CASE WHEN s.state = 'purged' THEN 1 ELSE s.instances + 1 END,
                        last_instance_at = greatest(s.last_instance_at, added.received_at),
                        revision = s.revision + CASE WHEN s.state = 'receiving' THEN 0 ELSE 1 END,
                        state = 'receiving', completed_at = NULL
                    FROM added WHERE s.series_instance_uid = added.series_instance_uid
                    """, [r.sopInstanceUID, r.seriesInstanceUID, r.studyInstanceUID, r.sopClassUID, r.transferSyntaxUID,
                          r.instanceNumber.map(String.init), r.path, String(r.bytes), at, r.callingAETitle])
                added += result.affectedRows
            }
            return added
        }
    }

    /// Every indexed path: the spool reconciliation compares the disk against it.
    public func indexedPaths() throws -> Set<String> {
        try database.withConnection { c in
            Set(try c.execute("SELECT path FROM instances").rows.compactMap { $0["path"] })
        }
    }

    public func isIndexed(sopInstanceUID: String) throws -> Bool {
        try database.withConnection { c in
            try c.execute("SELECT 1 FROM instances WHERE sop_instance_uid = $1", [sopInstanceUID]).count > 0
        }
    }

    /// Series quiet since before `cutoff` become complete (except those `excluding` names), routed
    /// by `route` in the same transaction (so a crash never leaves a complete series without a
    /// route); a series routed to the localizer gets its analysis job for `model` in that
    /// transaction too.
    @discardableResult
    public func completeQuietSeries(quietSince cutoff: Date, now: Date, excluding: Set<String> = [], model: ModelIdentity? = nil,
                                    route: (SeriesRecord) -> (Route, String)) throws -> [SeriesRecord] {
        // A text[] literal; UIDs are digits and dots (UID.isValid), quoted all the same.
        let excluded = "{" + excluding.sorted().map { "\"\($0)\"" }.joined(separator: ",") + "}"
        return try database.transaction { c in
            let rows = try c.execute("""
                SELECT * FROM series WHERE state = 'receiving' AND last_instance_at < $1
                  AND NOT (series_instance_uid = ANY($2::text[]))
                ORDER BY last_instance_at FOR UPDATE SKIP LOCKED
                """, [Timestamp.format(cutoff), excluded]).rows
            var done: [SeriesRecord] = []
            for row in rows {
                var s = SeriesRecord(row: row)
                let (r, reason) = route(s)
                try c.execute("""
                    UPDATE series SET state = 'complete', completed_at = $2, route = $3, reason = $4
                    WHERE series_instance_uid = $1
                    """, [s.seriesInstanceUID, Timestamp.format(now), r.rawValue, reason])
                if r == .localizer, let model {
                    try Pipeline.queueAnalysis(c, seriesInstanceUID: s.seriesInstanceUID, revision: s.revision, model: model, now: now)
                }
                s.state = .complete; s.completedAt = now; s.route = r; s.reason = reason
                done.append(s)
            }
            return done
        }
    }

    public func series(uid: String) throws -> SeriesRecord? {
        try database.withConnection { c in
            try c.execute("SELECT * FROM series WHERE series_instance_uid = $1", [uid]).rows.first.map(SeriesRecord.init(row:))
        }
    }

    public func allSeries() throws -> [SeriesRecord] {
        try database.withConnection { c in
            try c.execute("SELECT * FROM series ORDER BY first_instance_at, series_instance_uid").rows.map(SeriesRecord.init(row:))
        }
    }

    public func instancePaths(seriesInstanceUID: String) throws -> [String] {
        try database.withConnection { c in
            try c.execute("SELECT path FROM instances WHERE series_instance_uid = $1 ORDER BY instance_number NULLS LAST, path",
                          [seriesInstanceUID]).rows.compactMap { $0["path"] }
        }
    }

    /// The series' instances as the index knows them (path and UIDs), in instance order: what a
    /// report references, without re-reading every file.
    public func instanceReferences(seriesInstanceUID: String) throws -> [InstanceReference] {
        try database.withConnection { c in
            try c.execute("""
                SELECT path, sop_class_uid, sop_instance_uid, study_instance_uid FROM instances
                WHERE series_instance_uid = $1 ORDER BY instance_number NULLS LAST, path
                """, [seriesInstanceUID]).rows.map {
                InstanceReference(path: $0["path"]!, sopClassUID: $0["sop_class_uid"]!, sopInstanceUID: $0["sop_instance_uid"]!,
                                  seriesInstanceUID: seriesInstanceUID, studyInstanceUID: $0["study_instance_uid"]!)
            }
        }
    }

    /// The received instances matching `query` (purged series have none left), by study, series
    /// number and instance number: what DICOMweb searches and retrieves.
    public func objects(matching query: ObjectQuery) throws -> [StoredObject] {
        try database.withConnection { c in
            try c.execute("""
                SELECT i.sop_instance_uid, i.sop_class_uid, i.series_instance_uid, i.study_instance_uid, i.transfer_syntax_uid,
                       i.instance_number, i.path, s.patient_id, s.accession_number, s.study_date, s.modality,
                       s.series_description, s.series_number
                FROM instances i JOIN series s ON s.series_instance_uid = i.series_instance_uid
                WHERE ($1::text IS NULL OR i.study_instance_uid = $1) AND ($2::text IS NULL OR i.series_instance_uid = $2)
                  AND ($3::text IS NULL OR i.sop_instance_uid = $3) AND ($4::text IS NULL OR s.modality = $4)
                  AND ($5::text IS NULL OR s.accession_number = $5) AND ($6::text IS NULL OR s.patient_id = $6)
                ORDER BY i.study_instance_uid, s.series_number NULLS LAST, i.series_instance_uid,
                         i.instance_number NULLS LAST, i.sop_instance_uid
                """, [query.studyInstanceUID, query.seriesInstanceUID, query.sopInstanceUID, query.modality,
                      query.accessionNumber, query.patientID]).rows.map {
                StoredObject(origin: .received, studyInstanceUID: $0["study_instance_uid"]!, seriesInstanceUID: $0["series_instance_uid"]!,
                             sopInstanceUID: $0["sop_instance_uid"]!, sopClassUID: $0["sop_class_uid"]!, path: $0["path"]!,
                             transferSyntaxUID: $0["transfer_syntax_uid"], instanceNumber: $0.int("instance_number"),
                             patientID: $0["patient_id"], accessionNumber: $0["accession_number"], studyDate: $0["study_date"],
                             modality: $0["modality"], seriesDescription: $0["series_description"], seriesNumber: $0.int("series_number"))
            }
        }
    }

    /// Ignored series completed before `cutoff` whose files are still on disk.
    /// Complete series whose received files may go now: ignored ones completed before
    /// `ignoredCompletedBefore`, and every series last received before `receivedBefore`; with
    /// `oldestFirst` (disk pressure) every purgeable series whatever its age. Oldest last receipt first.
    public func seriesToPurge(ignoredCompletedBefore: Date, receivedBefore: Date, anyAge: Bool = false) throws -> [PurgeCandidate] {
        try database.withConnection { c in
            try c.execute("""
                SELECT s.series_instance_uid, s.route, s.completed_at, s.last_instance_at FROM series s
                WHERE \(Self.purgeable)
                  AND ($3 OR (s.route = '\(Route.ignored.rawValue)' AND s.completed_at < $1) OR s.last_instance_at < $2)
                ORDER BY s.last_instance_at, s.series_instance_uid
                """, [Timestamp.format(ignoredCompletedBefore), Timestamp.format(receivedBefore), anyAge ? "true" : "false"]).rows.map {
                PurgeCandidate(seriesInstanceUID: $0["series_instance_uid"]!, route: $0["route"].flatMap(Route.init(rawValue:)),
                               completedAt: $0.date("completed_at"), lastInstanceAt: $0.date("last_instance_at") ?? Date.distantPast)
            }
        }
    }

    /// A complete series nothing still needs the received files of: no analysis of it pending or
    /// running, and no delivery of its results pending or being sent (every one sent or dead).
    /// A series still receiving (or being assembled) is not complete.
    static let purgeable = """
        s.state = 'complete'
          AND NOT EXISTS (SELECT 1 FROM analyses a WHERE a.series_instance_uid = s.series_instance_uid
                          AND a.state IN ('pending', 'running'))
          AND NOT EXISTS (SELECT 1 FROM outbox o JOIN results r ON r.id = o.result_id JOIN analyses a ON a.id = r.analysis_id
                          WHERE a.series_instance_uid = s.series_instance_uid AND o.state IN ('pending', 'sending'))
        """

    /// Purges one series if it is still purgeable: under its row lock (so no late instance, new
    /// job or completion interleaves), `removeFiles` deletes the files, then the series is marked
    /// purged (time and reason) and its instance rows are forgotten, in one transaction. A crash
    /// after the files went leaves rows without files, which the next sweep finishes; never files
    /// without rows. Returns the number of files, nil when the series is no longer purgeable.
    public func purge(seriesInstanceUID: String, reason: PurgeReason, at: Date,
                      removeFiles: ([String]) throws -> Void) throws -> Int? {
        try database.transaction { c in
            guard try c.execute("SELECT 1 FROM series s WHERE s.series_instance_uid = $1 AND \(Self.purgeable) FOR UPDATE OF s",
                                [seriesInstanceUID]).count == 1 else { return nil }
            let paths = try c.execute("SELECT path FROM instances WHERE series_instance_uid = $1", [seriesInstanceUID]).rows
                .compactMap { $0["path"] }
            try removeFiles(paths)
            try c.execute("UPDATE series SET state = 'purged', purged_at = $2, purge_reason = $3 WHERE series_instance_uid = $1",
                          [seriesInstanceUID, Timestamp.format(at), reason.rawValue])
            try c.execute("DELETE FROM instances WHERE series_instance_uid = $1", [seriesInstanceUID])
            return paths.count
        }
    }
}

/// Why a series' received files were purged (`series.purge_reason`).
public enum PurgeReason: String, Sendable, Codable, CaseIterable {
    /// An ignored series, `ignored_retention_hours` after its completion.
    case ignoredRetention = "ignored_retention"
    /// Any series, `received_retention_days` after its last instance arrived.
    case receivedRetention = "received_retention"
    /// Free space below `retention_free_disk_mb`: the oldest purgeable series first.
    case diskPressure = "disk_pressure"
}

/// A series the retention sweep may purge.
public struct PurgeCandidate: Sendable, Equatable {
    public var seriesInstanceUID: String
    public var route: Route?
    public var completedAt: Date?
    public var lastInstanceAt: Date
}

extension SeriesRecord {
    init(row: Row) {
        let d = SeriesDescriptors(
            patientID: row["patient_id"], accessionNumber: row["accession_number"], studyDate: row["study_date"],
            modality: row["modality"], seriesDescription: row["series_description"], protocolName: row["protocol_name"],
            seriesNumber: row.int("series_number"),
            imageType: row["image_type"].map { $0.split(separator: "\\", omittingEmptySubsequences: false).map(String.init) } ?? [],
            imageOrientationPatient: row["image_orientation"].map { $0.split(separator: "\\").compactMap { Double($0) } },
            echoTime: row.double("echo_time"), repetitionTime: row.double("repetition_time"),
            sliceThickness: row.double("slice_thickness"))
        self.init(seriesInstanceUID: row["series_instance_uid"] ?? "", studyInstanceUID: row["study_instance_uid"] ?? "",
                  sopClassUID: row["sop_class_uid"], descriptors: d, callingAETitle: row["calling_ae_title"],
                  instances: row.int("instances") ?? 0, state: SeriesState(rawValue: row["state"] ?? "") ?? .receiving,
                  route: row["route"].flatMap(Route.init(rawValue:)), reason: row["reason"],
                  revision: row.int("revision") ?? 0, firstInstanceAt: row.date("first_instance_at") ?? Date(timeIntervalSince1970: 0),
                  lastInstanceAt: row.date("last_instance_at") ?? Date(timeIntervalSince1970: 0),
                  completedAt: row.date("completed_at"))
        purgedAt = row.date("purged_at")
        purgeReason = row["purge_reason"].flatMap(PurgeReason.init(rawValue:))
    }
}

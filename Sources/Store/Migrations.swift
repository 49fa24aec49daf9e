/// Schema migrations, applied in order, each once, each in its own transaction. Append only: a
/// released migration is never edited.
public enum Migrations {
    public struct Migration: Sendable { public let version: Int; public let name: String; public let sql: String }

    public static let all: [Migration] = [
        Migration(version: 1, name: "instances and series", sql: """
        CREATE TABLE series (
            series_instance_uid text PRIMARY KEY,
            study_instance_uid  text NOT NULL,
            patient_id          text,
            accession_number    text,
            study_date          text,
            modality            text,
            sop_class_uid       text,
            series_description  text,
            protocol_name       text,
            series_number       integer,
            image_type          text,
            image_orientation   text,
            echo_time           double precision,
            repetition_time     double precision,
            slice_thickness     double precision,
            calling_ae_title    text,
            instances           integer NOT NULL DEFAULT 0,
            state               text NOT NULL DEFAULT 'receiving'
                                CHECK (state IN ('receiving', 'complete', 'purged')),
            route               text CHECK (route IN ('localizer', 'ignored')),
            reason              text,
            revision            integer NOT NULL DEFAULT 0,
            first_instance_at   timestamptz NOT NULL,
            last_instance_at    timestamptz NOT NULL,
            completed_at        timestamptz,
            purged_at           timestamptz
        );
        CREATE INDEX series_receiving ON series (last_instance_at) WHERE state = 'receiving';
        CREATE INDEX series_study ON series (study_instance_uid);

        CREATE TABLE instances (
            sop_instance_uid    text PRIMARY KEY,
            series_instance_uid text NOT NULL REFERENCES series ON DELETE CASCADE,
            study_instance_uid  text NOT NULL,
            sop_class_uid       text NOT NULL,
            transfer_syntax_uid text NOT NULL,
            instance_number     integer,
            path                text NOT NULL UNIQUE,
            bytes               bigint NOT NULL,
            received_at         timestamptz NOT NULL,
            calling_ae_title    text
        );
        CREATE INDEX instances_series ON instances (series_instance_uid);
        """),
    ]

    /// Applies what is missing. Safe to run concurrently (an advisory lock serialises runners).
    /// Returns the versions applied now.
    @discardableResult
    public static func apply(to database: Database) throws -> [Int] {
        try database.withConnection { c in
            try c.execute("SELECT pg_advisory_lock(7410001)")
            defer { _ = try? c.execute("SELECT pg_advisory_unlock(7410001)") }
            try c.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """)
            let done = Set(try c.execute("SELECT version FROM schema_migrations").rows.compactMap { $0.int("version") })
            var applied: [Int] = []
            for m in all where !done.contains(m.version) {
                try c.transaction { t in
                    try t.executeScript(m.sql)
                    try t.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [String(m.version), m.name])
                }
                applied.append(m.version)
            }
            return applied
        }
    }

    public static func pending(in database: Database) throws -> [Int] {
        try database.withConnection { c in
            let exists = try c.execute("SELECT to_regclass('schema_migrations') IS NOT NULL AS e").rows.first?.bool("e") ?? false
            guard exists else { return all.map(\.version) }
            let done = Set(try c.execute("SELECT version FROM schema_migrations").rows.compactMap { $0.int("version") })
            return all.map(\.version).filter { !done.contains($0) }
        }
    }
}

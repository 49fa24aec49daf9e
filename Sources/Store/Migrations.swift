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
        Migration(version: 2, name: "analyses, results, outbox, lstv_flags", sql: """
        -- One analysis job per (series revision, model). Completion of a localizer series inserts
        -- it in the same transaction; workers claim it with FOR UPDATE SKIP LOCKED.
        CREATE TABLE analyses (
            id                  bigserial PRIMARY KEY,
            series_instance_uid text NOT NULL REFERENCES series ON DELETE CASCADE,
            series_revision     integer NOT NULL,
            model_name          text NOT NULL,
            model_version       text NOT NULL,
            model_sha256        text NOT NULL,
            state               text NOT NULL DEFAULT 'pending'
                                CHECK (state IN ('pending', 'running', 'done', 'failed')),
            attempts            integer NOT NULL DEFAULT 0,
            result              jsonb,
            risk                text CHECK (risk IN ('low', 'medium', 'high')),
            ladder_status       text,
            error               text,
            created_at          timestamptz NOT NULL,
            started_at          timestamptz,
            finished_at         timestamptz,
            UNIQUE (series_instance_uid, series_revision, model_sha256)
        );
        CREATE INDEX analyses_pending ON analyses (id) WHERE state = 'pending';

        -- DICOM objects the node produced (SR, key image), kept as files until delivered.
        CREATE TABLE results (
            id                  bigserial PRIMARY KEY,
            analysis_id         bigint NOT NULL REFERENCES analyses ON DELETE CASCADE,
            kind                text NOT NULL CHECK (kind IN ('sr', 'key_image')),
            sop_class_uid       text NOT NULL,
            sop_instance_uid    text NOT NULL UNIQUE,
            series_instance_uid text NOT NULL,
            path                text NOT NULL,
            predecessor_sop_instance_uid text,
            created_at          timestamptz NOT NULL
        );

        -- One row per (result, destination). Retried with backoff; a permanent refusal is dead.
        CREATE TABLE outbox (
            id                  bigserial PRIMARY KEY,
            result_id           bigint NOT NULL REFERENCES results ON DELETE CASCADE,
            destination_ae      text NOT NULL,
            destination_host    text NOT NULL,
            destination_port    integer NOT NULL,
            state               text NOT NULL DEFAULT 'pending'
                                CHECK (state IN ('pending', 'sending', 'sent', 'dead')),
            attempts            integer NOT NULL DEFAULT 0,
            next_attempt_at     timestamptz NOT NULL,
            last_status         text,
            last_error          text,
            created_at          timestamptz NOT NULL,
            sent_at             timestamptz,
            UNIQUE (result_id, destination_ae, destination_host, destination_port)
        );
        CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';

        -- For worklists and integrators: the latest finished analysis of each series, one row per
        -- series, every level's metrics as columns. Read-only by contract; columns only ever added.
        \(FlagsView.sql(create: "CREATE VIEW", source: .resultJSON, suspicion: false))
        """),
        Migration(version: 3, name: "installation identity", sql: """
        -- One random UUID per database: the root of the UIDs this installation derives for its SRs
        -- and key images, so two nodes (or a re-created database) never mint the same SOP Instance UID.
        CREATE TABLE installation (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            uuid      text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO installation (uuid) VALUES (gen_random_uuid()::text);
        """),
        Migration(version: 4, name: "lstv_flags: suspicion, lumbar count, junction", sql: """
        -- Issue 11: the continuous suspicion the risk is derived from, and the evidence it rests on.
        -- Columns are added at the end (the view's contract: columns only ever added).
        \(FlagsView.sql(create: "CREATE OR REPLACE VIEW", source: .resultJSON, suspicion: true))
        """),
        Migration(version: 5, name: "lstv_flags: typed columns", sql: """
        -- Issue 12: the figures worklists read are written to typed columns by the code that knows
        -- their types, instead of being read out of the result JSON by the view. Analyses finished
        -- before this migration are copied across once, by the expressions the old view used.
        \(FlagsView.typedTableSQL)
        \(FlagsView.sql(create: "CREATE OR REPLACE VIEW", source: .typedColumns, suspicion: true))
        """),
        Migration(version: 6, name: "results: key object selection", sql: """
        -- Issue 14: a Key Object Selection document is a third kind of result.
        ALTER TABLE results DROP CONSTRAINT results_kind_check;
        ALTER TABLE results ADD CONSTRAINT results_kind_check CHECK (kind IN ('sr', 'key_image', 'kos'));
        """),
        Migration(version: 7, name: "retention of every series", sql: """
        -- Issue 15: the received files of every series are purged by age or disk pressure (an analysed
        -- one only once its results are delivered). Why the files went is kept with purged_at; both
        -- stay when new instances reopen a purged series, so the row says it was purged before.
        ALTER TABLE series ADD COLUMN purge_reason text
            CHECK (purge_reason IN ('ignored_retention', 'received_retention', 'disk_pressure'));
        CREATE INDEX series_complete_by_age ON series (last_instance_at) WHERE state = 'complete';
        """),
        Migration(version: 8, name: "claims owned by a node process", sql: """
        -- Issue 15: several node processes share one database. A running analysis or a delivery being
        -- sent names the process that claimed it (a number from this sequence, whose PostgreSQL
        -- session holds the advisory lock (\(ClaimOwner.lockSpace), number) while the process lives);
        -- only a claim whose owner's lock is gone is taken back (ClaimOwner, Pipeline.releaseAbandoned).
        CREATE SEQUENCE claim_owners AS integer CYCLE;
        ALTER TABLE analyses ADD COLUMN claimed_by integer;
        ALTER TABLE outbox ADD COLUMN claimed_by integer;
        """),
    ]

    /// Applies what is missing. Safe to run concurrently (an advisory lock serialises runners).
    /// Returns the versions applied now.
    /// `upTo` stops after that version (tests of an upgrade from an earlier schema).
    @discardableResult
    public static func apply(to database: Database, upTo last: Int = .max) throws -> [Int] {
        try database.withConnection { c in
            try c.execute("SELECT pg_advisory_lock(7410001)")
            defer { _ = try? c.execute("SELECT pg_advisory_unlock(7410001)") }
            try c.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """)
            let done = Set(try c.execute("SELECT version FROM schema_migrations").rows.compactMap { $0.int("version") })
            var applied: [Int] = []
            for m in all where !done.contains(m.version) && m.version <= last {
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

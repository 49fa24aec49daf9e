import Records

/// The `lstv_flags` view: one row per series (its latest finished analysis), every figure a
/// worklist filters on as a typed column. Each column is declared once here: its SQL type, how the
/// analysis' typed values fill it, and how the views before migration 5 read it out of the result JSON.
enum FlagsView {
    enum SQLType: String { case double = "double precision", integer, text }

    /// A value bound to a typed column: a number or text, nil for NULL (and for non-finite numbers,
    /// as the result JSON has them).
    enum Value {
        case double(Double?), integer(Int?), text(String?)
        var parameter: String? {
            switch self {
            case .double(let v): return v.flatMap { $0.isFinite ? String($0) : nil }
            case .integer(let v): return v.map(String.init)
            case .text(let v): return v
            }
        }
    }

    struct Column {
        let name: String
        let type: SQLType
        /// The expression the views of migrations 2 and 4 read it with (released SQL: never edited).
        let json: String
        let value: (AnalysisFlags) -> Value
    }

    /// The disc levels, in the order their columns were first defined.
    static let levels = ["l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1"]

    static let riskEntropy = Column(name: "l5_s1_risk_entropy", type: .double,
                                    json: "(a.result->>'risk_entropy')::double precision") { .double($0.riskEntropy) }

    static let levelColumns: [Column] = levels.flatMap { level in
        [Column(name: "\(level)_confidence", type: .double, json: "(a.result#>>'{levels,\(level),peak_confidence}')::double precision") {
            .double($0.levels[level]?.confidence) },
         Column(name: "\(level)_entropy", type: .double, json: "(a.result#>>'{levels,\(level),entropy}')::double precision") {
            .double($0.levels[level]?.entropy) },
         Column(name: "\(level)_spatial_entropy", type: .double, json: "(a.result#>>'{levels,\(level),spatial_entropy}')::double precision") {
            .double($0.levels[level]?.spatialEntropy) }]
    }

    /// The columns migration 4 added (issue 11).
    static let suspicionColumns: [Column] = [
        Column(name: "lstv_suspicion", type: .double, json: "(a.result->>'lstv_suspicion')::double precision") { .double($0.lstvSuspicion) },
        Column(name: "suspicion_scale", type: .text, json: "a.result#>>'{suspicion,scale}'") { .text($0.suspicionScale) },
        Column(name: "lumbar_count", type: .integer, json: "(a.result#>>'{suspicion,lumbar_count,value}')::integer") { .integer($0.lumbarCount) },
        Column(name: "lumbar_count_probability", type: .double,
               json: "(a.result#>>'{suspicion,lumbar_count,probability}')::double precision") { .double($0.lumbarCountProbability) },
        Column(name: "junction_state", type: .text, json: "a.result#>>'{suspicion,junction,state}'") { .text($0.junctionState) },
        Column(name: "risk_threshold_origin", type: .text, json: "a.result->>'risk_threshold_origin'") { .text($0.riskThresholdOrigin) },
        Column(name: "suspicion_reasons", type: .text,
               json: "array_to_string(ARRAY(SELECT jsonb_array_elements_text(a.result#>'{suspicion,reasons}')), ' | ')") {
            .text($0.suspicionReasons.joined(separator: " | ")) },
    ]

    /// Every typed column, in `analysis_flags` order.
    static let columns = [riskEntropy] + levelColumns + suspicionColumns

    /// How a view version reads the typed columns.
    enum Source {
        /// Migrations 2 and 4: out of `analyses.result`.
        case resultJSON
        /// Migration 5 on: the typed `analysis_flags` row (`f`).
        case typedColumns
        func select(_ c: Column) -> String {
            switch self {
            case .resultJSON: return "\(c.json) AS \(c.name)"
            case .typedColumns: return "f.\(c.name)"
            }
        }
        var join: String {
            switch self {
            case .resultJSON: return ""
            case .typedColumns: return " LEFT JOIN analysis_flags f ON f.analysis_id = a.id"
            }
        }
    }

    /// The view's SQL. `create` is `CREATE VIEW` or `CREATE OR REPLACE VIEW`; the suspicion
    /// columns exist from migration 4 on. Columns are only ever added at the end (the contract).
    static func sql(create: String, source: Source, suspicion: Bool) -> String {
        var tail = ""
        if suspicion { tail = ",\n    " + suspicionColumns.map(source.select).joined(separator: ",\n    ") }
        return """
            \(create) lstv_flags AS
            SELECT DISTINCT ON (a.series_instance_uid)
                s.study_instance_uid, a.series_instance_uid, s.accession_number, s.patient_id, s.study_date,
                s.series_description, a.model_name, a.model_version, a.model_sha256,
                a.risk, \(source.select(riskEntropy)), a.ladder_status,
                \(levelColumns.map { source.select($0) + "," }.joined(separator: "\n    "))
                a.result, a.id AS analysis_id, a.series_revision, s.completed_at AS series_completed_at,
                a.created_at, a.finished_at AS analysed_at\(tail)
            FROM analyses a JOIN series s USING (series_instance_uid)\(source.join)
            WHERE a.state = 'done'
            ORDER BY a.series_instance_uid, a.finished_at DESC, a.id DESC;
            """
    }

    /// Migration 5: the typed table, filled once from the analyses already finished.
    static var typedTableSQL: String {
        """
        CREATE TABLE analysis_flags (
            analysis_id bigint PRIMARY KEY REFERENCES analyses ON DELETE CASCADE,
            \(columns.map { "\($0.name) \($0.type.rawValue)" }.joined(separator: ",\n    "))
        );
        INSERT INTO analysis_flags (analysis_id, \(columns.map(\.name).joined(separator: ", ")))
        SELECT a.id, \(columns.map(\.json).joined(separator: ", ")) FROM analyses a WHERE a.state = 'done';
        """
    }

    /// Writes one analysis' typed values (a re-run of the same analysis replaces them).
    static func write(_ c: Connection, analysisID: Int64, _ flags: AnalysisFlags) throws {
        let names = columns.map(\.name)
        let placeholders = (0..<names.count).map { "$\($0 + 2)" }.joined(separator: ",")
        let updates = names.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        try c.execute("""
            INSERT INTO analysis_flags (analysis_id, \(names.joined(separator: ", "))) VALUES ($1,\(placeholders))
            ON CONFLICT (analysis_id) DO UPDATE SET \(updates)
            """, [String(analysisID)] + columns.map { $0.value(flags).parameter })
    }
}

import Foundation
import Store

/// `flags export`: the stored flags (the `lstv_flags` view) as one flat table, CSV or JSON. The
/// reference's CSV columns come first, in `analyze --format csv`'s order and under its names, so a
/// spreadsheet or script written for analyze's CSV reads an export unchanged; the view's other
/// columns (accession, patient ID, model, times, …) follow in the view's order.
///
/// Values are the view's, not re-formatted: numbers as PostgreSQL prints them (every digit), NULL
/// as an empty CSV field or JSON null, and JSON typed from the columns' PostgreSQL types as
/// `flags list --json` types them.
public struct FlagsExport {
    public enum Format: String, CaseIterable, Sendable { case csv, json }

    /// One exported column: its name in the export and the view column it reads.
    public struct Column: Equatable, Sendable {
        public let name: String
        public let source: ResultColumn
    }

    /// analyze's CSV columns whose figure the view holds under another name; every other one has
    /// the view column's name.
    static let viewName = ["study_id": "study_instance_uid", "series_id": "series_instance_uid",
                           "junction": "junction_state", "ladder": "ladder_status"]
    /// Left out: the whole analysis as JSON (`flags list --json` shows it); its figures are the columns.
    static let omitted: Set<String> = ["result"]

    public let columns: [Column]

    /// The export's columns over the view's (fails if the view lacks one of analyze's: the view
    /// only ever gains columns, so that is a mistake here, not a database to work around).
    public init(view: [ResultColumn]) throws {
        let byName = Dictionary(view.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let reference = try SeriesAnalysisReport.csvColumns.map { name -> Column in
            let source = Self.viewName[name] ?? name
            guard let c = byName[source] else { throw ConfigurationError("lstv_flags has no column \(source) for the CSV column \(name)") }
            return Column(name: name, source: c)
        }
        let used = Set(reference.map(\.source.name)).union(Self.omitted)
        columns = reference + view.filter { !used.contains($0.name) }.map { Column(name: $0.name, source: $0) }
    }

    public func render(_ rows: [Row], as format: Format) throws -> String {
        switch format {
        case .csv: return csv(rows)
        case .json: return try json(rows)
        }
    }

    /// RFC 4180, header first, one line per row.
    public func csv(_ rows: [Row]) -> String {
        ([columns.map(\.name)] + rows.map { row in columns.map { row[$0.source.name] ?? "" } })
            .map { $0.map(SeriesAnalysisReport.csvQuoted).joined(separator: ",") }
            .joined(separator: "\n")
    }

    /// An array of objects, keys in the export's column order (JSONSerialization would sort or
    /// scramble them), values typed.
    public func json(_ rows: [Row]) throws -> String {
        let objects = try rows.map { row in
            "  {\n" + (try columns.map { c in
                let value: Any = try row[c.source.name].map { try Row.jsonValue($0, kind: c.source.kind, column: c.source.name) } ?? NSNull()
                return "    \(try Self.encode(c.name)): \(try Self.encode(value))"
            }).joined(separator: ",\n") + "\n  }"
        }
        return objects.isEmpty ? "[]" : "[\n" + objects.joined(separator: ",\n") + "\n]"
    }

    static func encode(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]),
               as: UTF8.self)
    }
}

extension NodeAdmin {
    /// `flags export`: the rows `flags list` shows (same filters, newest first), as a flat table.
    public func exportFlags(as format: FlagsExport.Format, since: Date?, risk: String?) throws -> String {
        let table = try Pipeline(database: database).flagsTable(since: since, risk: risk)
        return try FlagsExport(view: table.columns).render(table.rows, as: format)
    }
}

import Cohort
import Foundation

/// Reference labels for the report's ROC/PR section, from a CSV file: a key column
/// (`series_instance_uid`, `study_instance_uid` or `accession_number`, the first present in that
/// order), `lstv` (0 or 1) and optionally `castellvi` (a Castellvi type, shown as given). Kept
/// minimal and to the report; `calibrate` reads labels in Cohort, to be unified with this.
public struct ReportLabels: Sendable {
    /// The column cases are joined on, in order of preference (the most specific first).
    public enum Key: String, CaseIterable, Sendable {
        case seriesInstanceUID = "series_instance_uid"
        case studyInstanceUID = "study_instance_uid"
        case accessionNumber = "accession_number"

        func value(of c: CohortCase) -> String? {
            switch self {
            case .seriesInstanceUID: return c.seriesInstanceUID
            case .studyInstanceUID: return c.studyInstanceUID
            case .accessionNumber: return c.accessionNumber
            }
        }
    }

    public struct Label: Sendable, Equatable {
        public var lstv: Bool
        public var castellvi: String?
    }

    public let key: Key
    public let labels: [String: Label]
    public let source: String

    public init(csv text: String, source: String) throws {
        let table = try CSVTable(text, source: source)
        guard let key = Key.allCases.first(where: { table.header.contains($0.rawValue) }) else {
            throw CohortError("\(source): no key column (\(Key.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        try table.require(["lstv"])
        var labels: [String: Label] = [:]
        for (i, row) in table.rows.enumerated() {
            let line = "\(source) line \(i + 2)"
            let id = (row[key.rawValue] ?? "").trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty else { throw CohortError("\(line): empty \(key.rawValue)") }
            let lstv: Bool
            switch (row["lstv"] ?? "").trimmingCharacters(in: .whitespaces) {
            case "0": lstv = false
            case "1": lstv = true
            case let other: throw CohortError("\(line): lstv must be 0 or 1, not \"\(other)\"")
            }
            let castellvi = row["castellvi"].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            let label = Label(lstv: lstv, castellvi: castellvi)
            if let earlier = labels[id], earlier != label { throw CohortError("\(line): \(id) labelled twice, differently") }
            labels[id] = label
        }
        self.key = key
        self.labels = labels
        self.source = source
    }

    public static func load(path: String) throws -> ReportLabels {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CohortError("cannot read \(path): \(error.localizedDescription)")
        }
        return try ReportLabels(csv: text, source: path)
    }

    public func label(for c: CohortCase) -> Label? { key.value(of: c).flatMap { labels[$0] } }
}

import Foundation

/// A site's own labels: which series are LSTV (`lstv` 0/1, optional `castellvi` type), keyed by
/// the first of `series_instance_uid`, `study_instance_uid` or `accession_number` the file has.
public struct Labels: Sendable {
    public enum Key: String, CaseIterable, Sendable {
        case seriesInstanceUID = "series_instance_uid"
        case studyInstanceUID = "study_instance_uid"
        case accessionNumber = "accession_number"

        public func value(of c: CohortCase) -> String? {
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
        public init(lstv: Bool, castellvi: String?) { self.lstv = lstv; self.castellvi = castellvi }
    }

    public let key: Key
    /// By key value, in file order.
    public let byKey: [(String, Label)]
    /// Where they were read from (reports name it).
    public let source: String
    private let index: [String: Label]

    public init(csv text: String, source: String) throws {
        let table = try CSVTable(text, source: source)
        guard let key = Key.allCases.first(where: { table.header.contains($0.rawValue) }) else {
            throw CohortError("\(source): no key column to join on (\(Key.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        try table.require(["lstv"])
        var seen: [String: Label] = [:], byKey: [(String, Label)] = []
        for (i, row) in table.rows.enumerated() {
            let id = (row[key.rawValue] ?? "").trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty else { throw CohortError("\(source) line \(i + 2): empty \(key.rawValue)") }
            let lstv: Bool
            switch (row["lstv"] ?? "").trimmingCharacters(in: .whitespaces) {
            case "1": lstv = true
            case "0": lstv = false
            case let v: throw CohortError("\(source) line \(i + 2): lstv must be 0 or 1, not '\(v)'")
            }
            let castellvi = row["castellvi"].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            let label = Label(lstv: lstv, castellvi: castellvi)
            // The same label twice is harmless (a merged spreadsheet); two different ones are a mistake.
            if let earlier = seen[id] {
                guard earlier == label else { throw CohortError("\(source) line \(i + 2): \(key.rawValue) \(id) is labelled twice, differently") }
                continue
            }
            seen[id] = label
            byKey.append((id, label))
        }
        self.key = key
        self.byKey = byKey
        self.source = source
        index = Dictionary(byKey, uniquingKeysWith: { a, _ in a })
    }

    /// The label of a case, when the file has one for it.
    public func label(for c: CohortCase) -> Label? { key.value(of: c).flatMap { index[$0] } }

    public init(file path: String) throws {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CohortError("cannot read labels \(path): \(error.localizedDescription)")
        }
        try self.init(csv: text, source: path)
    }

    /// Labels matched to cases. A study or accession key labels every analysed series of it.
    public struct Join: Sendable {
        public var cases: [(CohortCase, Label)]
        /// Label keys no case has.
        public var unmatchedLabels: [String]
        /// Cases without a label.
        public var unlabelledCases: Int
    }

    public func join(_ cases: [CohortCase]) -> Join {
        var joined: [(CohortCase, Label)] = [], used = Set<String>(), unlabelled = 0
        for c in cases {
            if let id = key.value(of: c), let label = index[id] {
                joined.append((c, label))
                used.insert(id)
            } else {
                unlabelled += 1
            }
        }
        return Join(cases: joined, unmatchedLabels: byKey.map(\.0).filter { !used.contains($0) }, unlabelledCases: unlabelled)
    }
}

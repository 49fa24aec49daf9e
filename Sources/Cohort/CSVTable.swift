import Foundation

/// A CSV file (RFC 4180: quoted fields, doubled quotes, commas and line breaks inside quotes) as
/// rows keyed by the header's column names.
public struct CSVTable: Sendable {
    public let header: [String]
    public let rows: [[String: String]]
    let source: String

    public init(_ text: String, source: String) throws {
        let records = Self.records(text)
        guard let header = records.first, !header.isEmpty else { throw CohortError("\(source): empty CSV") }
        self.header = header.map { $0.trimmingCharacters(in: .whitespaces) }
        self.source = source
        var rows: [[String: String]] = []
        for (i, r) in records.dropFirst().enumerated() where !(r.count == 1 && r[0].isEmpty) {
            guard r.count == header.count else {
                throw CohortError("\(source) line \(i + 2): \(r.count) fields, the header has \(header.count)")
            }
            rows.append(Dictionary(uniqueKeysWithValues: zip(self.header, r)))
        }
        self.rows = rows
    }

    public func require(_ columns: [String]) throws {
        let missing = columns.filter { !header.contains($0) }
        guard missing.isEmpty else { throw CohortError("\(source): missing column(s) \(missing.joined(separator: ", "))") }
    }

    static func records(_ text: String) -> [[String]] {
        var records: [[String]] = [], record: [String] = [], field = ""
        var quoted = false, afterQuote = false
        var chars = Array(text.unicodeScalars)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.unicodeScalars.append(c); chars.removeFirst() } else { quoted = false; afterQuote = true }
                } else { field.unicodeScalars.append(c) }
                continue
            }
            switch c {
            case "\"" where field.isEmpty && !afterQuote: quoted = true
            case ",": record.append(field); field = ""; afterQuote = false
            case "\r": continue
            case "\n": record.append(field); records.append(record); record = []; field = ""; afterQuote = false
            default: field.unicodeScalars.append(c)
            }
        }
        if !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
        return records
    }
}

import Foundation

/// Words for a configuration mistake: the nearest known key to a misspelt one, and a decoding
/// error as what was expected and what was found (Yams' own messages name Swift types and its
/// node structure, which an operator cannot act on).
enum ConfigurationSpelling {
    /// The known key within two edits of `key` (the closest; none when nothing is that close).
    static func nearest(_ key: String, in known: [String]) -> String? {
        known.map { ($0, distance(key, $0)) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance (insertions, deletions, substitutions), on characters.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "expected \(expected(type))" + (found(context).map { ", found \($0)" } ?? "")
        case .dataCorrupted(let context):
            return context.underlyingError.map { "\($0)" } ?? context.debugDescription
        case .keyNotFound(let key, _):
            return "'\(key.stringValue)' is required here"
        @unknown default:
            return "\(error)"
        }
    }

    /// The kind of value a Swift type reads from YAML, in an operator's words.
    static func expected(_ type: Any.Type) -> String {
        switch "\(type)" {
        case "Int", "Int32", "Int64", "UInt16", "UInt32": return "a whole number"
        case "Double", "Float": return "a number"
        case "Bool": return "true or false"
        case "String": return "text"
        case "Scalar": return "a single value"
        case "Sequence": return "a list"
        case "Mapping": return "a mapping"
        case let name where name.hasPrefix("Array"): return "a list"
        case let name where name.hasPrefix("Dictionary"): return "a mapping"
        default: return "a \(type) value"
        }
    }

    /// The offending scalar, quoted, when Yams names it.
    static func found(_ context: DecodingError.Context) -> String? {
        let text = context.debugDescription
        guard let start = text.range(of: "Scalar(string: \"") else { return nil }
        guard let end = text[start.upperBound...].range(of: "\", tag:") else { return nil }
        return "\"" + text[start.upperBound..<end.lowerBound] + "\""
    }
}

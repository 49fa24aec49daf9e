/// A minimal writer of one-line XML with escaped text and attributes (attributes in name order, so
/// a message is byte-stable for tests and diffs).
struct XMLWriter {
    private(set) var text = ""

    mutating func open(_ name: String, _ attributes: [String: String] = [:]) {
        text += "<" + name + Self.attributes(attributes) + ">"
    }

    mutating func close(_ name: String) { text += "</" + name + ">" }

    mutating func empty(_ name: String, _ attributes: [String: String]) {
        text += "<" + name + Self.attributes(attributes) + "/>"
    }

    mutating func text(_ name: String, _ value: String) {
        open(name)
        text += Self.escape(value)
        close(name)
    }

    mutating func code(_ name: String, _ c: AuditCode) {
        empty(name, ["csd-code": c.code, "codeSystemName": c.system, "originalText": c.text])
    }

    private static func attributes(_ a: [String: String]) -> String {
        a.sorted { $0.key < $1.key }.map { " \($0.key)=\"\(escape($0.value))\"" }.joined()
    }

    /// Markup characters as entities; control characters (which XML 1.0 forbids, and which would
    /// break the one-line record) as spaces. Not Charts' SVG escaping: that keeps tab and newline,
    /// which must not reach a syslog record, and the audit trail must not depend on the charts.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case _ where ch.value < 0x20: out += " "
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}

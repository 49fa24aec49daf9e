import Foundation

/// SVG markup, written as text. Every attribute value and every text node goes through `escape`,
/// so a label taken from data (a UID, a reason) cannot break out of the chart.
///
/// The root element carries no `xmlns`: the charts are inlined in HTML, where the parser puts
/// `<svg>` in the SVG namespace itself, and a report must hold no URL at all (it opens offline and
/// is checked for one).
enum SVG {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // Control characters are not allowed in XML 1.0 text: dropped.
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}": continue
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A coordinate: two decimals at most, never an exponent (SVG's number grammar has one, but
    /// short fixed notation keeps the files small and diffable).
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let rounded = (v * 100).rounded() / 100
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(format: "%.2f", rounded).replacingOccurrences(of: #"0+$"#, with: "", options: .regularExpression)
    }

    /// `<name a="v" …>content</name>`, or self-closing without content. `content` is markup:
    /// callers pass `text(_:)` or other elements.
    static func element(_ name: String, _ attributes: [(String, String)], _ content: String? = nil) -> String {
        var s = "<" + name
        for (k, v) in attributes { s += " \(k)=\"\(escape(v))\"" }
        guard let content else { return s + "/>" }
        return s + ">" + content + "</\(name)>"
    }

    static func text(_ value: String, x: Double, y: Double, anchor: TextAnchor = .start, className: String = "label",
                     attributes: [(String, String)] = []) -> String {
        element("text", [("class", className), ("x", number(x)), ("y", number(y)), ("text-anchor", anchor.rawValue)] + attributes,
                escape(value))
    }

    static func line(x1: Double, y1: Double, x2: Double, y2: Double, className: String, stroke: ChartColour,
                     width: Double = 1, dashed: Bool = false) -> String {
        var a = [("class", className), ("x1", number(x1)), ("y1", number(y1)), ("x2", number(x2)), ("y2", number(y2)),
                 ("stroke", stroke.css), ("stroke-width", number(width))]
        if dashed { a.append(("stroke-dasharray", "4 3")) }
        return element("line", a)
    }

    static func rect(x: Double, y: Double, width: Double, height: Double, className: String, fill: ChartColour,
                     stroke: ChartColour? = nil, tooltip: String? = nil) -> String {
        var a = [("class", className), ("x", number(x)), ("y", number(y)), ("width", number(max(0, width))),
                 ("height", number(max(0, height))), ("fill", fill.css)]
        if let stroke { a.append(("stroke", stroke.css)) }
        return element("rect", a, tooltip.map { element("title", [], escape($0)) })
    }

    static func circle(x: Double, y: Double, radius: Double, className: String, fill: ChartColour, tooltip: String? = nil) -> String {
        element("circle", [("class", className), ("cx", number(x)), ("cy", number(y)), ("r", number(radius)), ("fill", fill.css),
                           ("fill-opacity", "0.8")],
                tooltip.map { element("title", [], escape($0)) })
    }
}

enum TextAnchor: String { case start, middle, end }

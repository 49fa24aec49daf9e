import Foundation
import Records

/// Declarative routing: an ordered list of rules; the first rule whose every condition holds
/// decides the route. A series no rule matches is ignored, with the reasons each rule gave.
public struct RoutingConfiguration: Codable, Sendable, Equatable {
    public var rules: [RoutingRule]

    public static let `default` = RoutingConfiguration(rules: [
        RoutingRule(
            name: "sagittal-t2-spine", route: .localizer, modality: ["MR"], plane: .sagittal,
            seriesText: "(?i)t2", excludeSeriesText: "(?i)(stir|flair|scout|localizer|survey|dixon)",
            echoTime: NumericRange(min: 60, max: 300), repetitionTime: NumericRange(min: 1000, max: nil),
            sliceThickness: NumericRange(min: nil, max: 6),
            excludeImageType: ["LOCALIZER"]),
    ])

    public func compiled() throws -> Router { try Router(self) }
}

public enum Plane: String, Codable, Sendable { case sagittal, coronal, axial }

public struct NumericRange: Codable, Sendable, Equatable {
    public var min: Double?
    public var max: Double?
    public init(min: Double?, max: Double?) { self.min = min; self.max = max }
    func contains(_ v: Double) -> Bool { (min.map { v >= $0 } ?? true) && (max.map { v <= $0 } ?? true) }
    var text: String { "[\(min.map { "\($0)" } ?? "-∞"), \(max.map { "\($0)" } ?? "∞")]" }
}

/// One rule. Every present condition must hold. Regular expressions search (not anchor) the text.
/// Numeric ranges only constrain series that carry the attribute: many scanners omit EchoTime on
/// derived series, and a missing value is not evidence of the wrong contrast.
public struct RoutingRule: Codable, Sendable, Equatable {
    public var name: String
    public var route: Route
    /// Any of these modalities.
    public var modality: [String]?
    /// Plane from ImageOrientationPatient (the slice normal's dominant axis).
    public var plane: Plane?
    /// Searched in SeriesDescription and ProtocolName (joined by a space).
    public var seriesText: String?
    /// Must not occur in SeriesDescription or ProtocolName.
    public var excludeSeriesText: String?
    public var seriesDescription: String?
    public var protocolName: String?
    public var echoTime: NumericRange?
    public var repetitionTime: NumericRange?
    public var sliceThickness: NumericRange?
    /// None of these values may appear in ImageType.
    public var excludeImageType: [String]?

    public init(name: String, route: Route, modality: [String]? = nil, plane: Plane? = nil, seriesText: String? = nil,
                excludeSeriesText: String? = nil, seriesDescription: String? = nil, protocolName: String? = nil,
                echoTime: NumericRange? = nil, repetitionTime: NumericRange? = nil, sliceThickness: NumericRange? = nil,
                excludeImageType: [String]? = nil) {
        self.name = name; self.route = route; self.modality = modality; self.plane = plane
        self.seriesText = seriesText; self.excludeSeriesText = excludeSeriesText
        self.seriesDescription = seriesDescription; self.protocolName = protocolName
        self.echoTime = echoTime; self.repetitionTime = repetitionTime; self.sliceThickness = sliceThickness
        self.excludeImageType = excludeImageType
    }

    enum CodingKeys: String, CodingKey {
        case name, route, modality, plane
        case seriesText = "series_text", excludeSeriesText = "exclude_series_text"
        case seriesDescription = "series_description", protocolName = "protocol_name"
        case echoTime = "echo_time", repetitionTime = "repetition_time", sliceThickness = "slice_thickness"
        case excludeImageType = "exclude_image_type"
    }
}

/// Rules with their regular expressions compiled.
public struct Router: @unchecked Sendable {
    let rules: [(RoutingRule, [String: NSRegularExpression])]

    init(_ configuration: RoutingConfiguration) throws {
        rules = try configuration.rules.map { rule in
            var regexes: [String: NSRegularExpression] = [:]
            for (key, pattern) in [("series_text", rule.seriesText), ("exclude_series_text", rule.excludeSeriesText),
                                   ("series_description", rule.seriesDescription), ("protocol_name", rule.protocolName)] {
                guard let pattern else { continue }
                do { regexes[key] = try NSRegularExpression(pattern: pattern) } catch {
                    throw ConfigurationError("routing rule \(rule.name): invalid regular expression for \(key): \(pattern)")
                }
            }
            return (rule, regexes)
        }
    }

    /// The route and a human-readable reason.
    public func route(_ d: SeriesDescriptors) -> (Route, String) {
        var failures: [String] = []
        for (rule, regexes) in rules {
            let unmet = Router.unmet(rule, regexes, d)
            if unmet.isEmpty { return (rule.route, "matched rule \(rule.name)") }
            failures.append("\(rule.name): " + unmet.joined(separator: "; "))
        }
        return (.ignored, failures.isEmpty ? "no routing rules configured" : "no rule matched (" + failures.joined(separator: " | ") + ")")
    }

    static func unmet(_ rule: RoutingRule, _ regexes: [String: NSRegularExpression], _ d: SeriesDescriptors) -> [String] {
        var unmet: [String] = []
        if let modalities = rule.modality {
            let m = d.modality ?? ""
            if !modalities.contains(where: { $0.caseInsensitiveCompare(m) == .orderedSame }) {
                unmet.append("modality is \(m.isEmpty ? "missing" : m), not \(modalities.joined(separator: "/"))")
            }
        }
        if let want = rule.plane {
            let got = plane(of: d.imageOrientationPatient)
            if got != want { unmet.append("plane is \(got?.rawValue ?? "unknown"), not \(want.rawValue)") }
        }
        let text = [d.seriesDescription, d.protocolName].compactMap { $0 }.joined(separator: " ")
        if let r = regexes["series_text"], !matches(r, text) {
            unmet.append("description/protocol \"\(text)\" does not match \(rule.seriesText!)")
        }
        if let r = regexes["exclude_series_text"], matches(r, text) {
            unmet.append("description/protocol \"\(text)\" matches the exclusion \(rule.excludeSeriesText!)")
        }
        if let r = regexes["series_description"], !matches(r, d.seriesDescription ?? "") {
            unmet.append("series description does not match \(rule.seriesDescription!)")
        }
        if let r = regexes["protocol_name"], !matches(r, d.protocolName ?? "") {
            unmet.append("protocol name does not match \(rule.protocolName!)")
        }
        for (name, range, value) in [("echo time", rule.echoTime, d.echoTime), ("repetition time", rule.repetitionTime, d.repetitionTime),
                                     ("slice thickness", rule.sliceThickness, d.sliceThickness)] {
            if let range, let value, !range.contains(value) { unmet.append("\(name) \(value) outside \(range.text)") }
        }
        if let excluded = rule.excludeImageType {
            let hit = d.imageType.filter { v in excluded.contains { $0.caseInsensitiveCompare(v) == .orderedSame } }
            if !hit.isEmpty { unmet.append("image type contains \(hit.joined(separator: "/"))") }
        }
        return unmet
    }

    static func matches(_ r: NSRegularExpression, _ s: String) -> Bool {
        r.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }

    /// The plane whose normal is closest to the slice normal (row × column direction).
    public static func plane(of iop: [Double]?) -> Plane? {
        guard let o = iop, o.count == 6 else { return nil }
        let n = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]].map(abs)
        guard let m = n.max(), m > 0 else { return nil }
        if n[0] == m { return .sagittal }
        if n[1] == m { return .coronal }
        return .axial
    }
}

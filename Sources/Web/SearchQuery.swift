import Hummingbird
import Store

/// What a QIDO-RS search returns one entry per.
enum SearchLevel: Sendable {
    case study, series, instance
}

/// A QIDO-RS search (PS3.18 10.6.1): exact matching on the attributes the node indexes (by keyword
/// or tag), `limit` and `offset`. Wildcards, UID lists and fuzzy matching are refused with 400
/// rather than answered wrongly; `includefield` is accepted and changes nothing (every supported
/// attribute is always returned).
struct SearchQuery: Equatable, Sendable {
    var match = ObjectQuery()
    var limit: Int?
    var offset = 0

    enum Problem: Error, CustomStringConvertible, Equatable {
        case unsupportedParameter(String), unsupportedValue(String, String), badNumber(String)
        var description: String {
            switch self {
            case .unsupportedParameter(let p): return "unsupported search parameter \(p)"
            case .unsupportedValue(let p, let why): return "\(p): \(why)"
            case .badNumber(let p): return p == "limit" ? "limit must be a whole number of 1 or more" : "offset must be a whole number of 0 or more"
            }
        }
    }

    /// The parameters that change nothing here: every attribute is returned, and matching is exact.
    static let ignoredParameters: Set<String> = ["includefield", "fuzzymatching"]

    init() {}

    /// From the query string's (name, value) pairs, in order.
    init(parameters: [(String, String)]) throws {
        for (name, value) in parameters {
            switch name.lowercased() {
            case "limit":
                guard let n = Int(value), n >= 1 else { throw Problem.badNumber("limit") }
                limit = n
            case "offset":
                guard let n = Int(value), n >= 0 else { throw Problem.badNumber("offset") }
                offset = n
            case let lower where Self.ignoredParameters.contains(lower):
                if lower == "fuzzymatching", value.lowercased() == "true" {
                    throw Problem.unsupportedValue(name, "fuzzy matching is not supported")
                }
            default:
                guard let attribute = Attribute(parameter: name) else { throw Problem.unsupportedParameter(name) }
                try set(attribute, value, parameter: name)
            }
        }
    }

    private mutating func set(_ attribute: Attribute, _ value: String, parameter: String) throws {
        guard !value.isEmpty else { return }  // an empty value matches everything (universal matching)
        if value.contains("*") || value.contains("?") { throw Problem.unsupportedValue(parameter, "wildcard matching is not supported") }
        switch attribute {
        case .studyInstanceUID, .seriesInstanceUID, .sopInstanceUID:
            if value.contains(",") || value.contains("\\") { throw Problem.unsupportedValue(parameter, "lists of UIDs are not supported") }
            switch attribute {
            case .studyInstanceUID: match.studyInstanceUID = value
            case .seriesInstanceUID: match.seriesInstanceUID = value
            default: match.sopInstanceUID = value
            }
        case .modality, .modalitiesInStudy: match.modality = value
        case .accessionNumber: match.accessionNumber = value
        case .patientID: match.patientID = value
        default: throw Problem.unsupportedValue(parameter, "not a matching key here")
        }
    }

    /// Restricts the search to the UIDs in the path. A path UID that contradicts the query's
    /// answers nothing (`false`).
    mutating func restrict(study: String?, series: String?) -> Bool {
        if let study {
            if let given = match.studyInstanceUID, given != study { return false }
            match.studyInstanceUID = study
        }
        if let series {
            if let given = match.seriesInstanceUID, given != series { return false }
            match.seriesInstanceUID = series
        }
        return true
    }

    /// This page of `items`.
    func page<T>(_ items: [T]) -> [T] {
        let rest = items.dropFirst(offset)
        return Array(limit.map { rest.prefix($0) } ?? rest)
    }
}

import Foundation

/// An `Accept` header (RFC 9110 12.5.1) as media ranges with their parameters, enough to decide
/// whether a response type is acceptable: WADO-RS answers 406 rather than a type nobody asked for.
struct AcceptHeader: Sendable, Equatable {
    struct Range: Sendable, Equatable {
        var type: String      // lower-cased, e.g. "multipart/related", "image/*", "*/*"
        var parameters: [String: String]  // names lower-cased, values unquoted
    }
    let ranges: [Range]

    /// nil or empty: anything is acceptable.
    init(_ header: String?) {
        ranges = (header ?? "").split(separator: ",").compactMap { item in
            let pieces = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let type = pieces.first, !type.isEmpty else { return nil }
            var parameters: [String: String] = [:]
            for p in pieces.dropFirst() {
                let kv = p.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2 else { continue }
                parameters[kv[0].lowercased()] = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            // q=0 means "not acceptable".
            if let q = parameters["q"], let value = Double(q), value <= 0 { return nil }
            return Range(type: type.lowercased(), parameters: parameters)
        }
    }

    var acceptsAnything: Bool { ranges.isEmpty }

    /// Whether `type` (e.g. "image/png") is acceptable: named, or covered by `major/*` or `*/*`.
    func accepts(_ type: String) -> Bool {
        acceptsAnything || ranges.contains { Self.covers($0.type, type) }
    }

    /// Whether a multipart response of parts of `partType` is acceptable: `multipart/related` with
    /// that `type` (or none), or a wildcard. A requested transfer syntax other than `*` or the one
    /// stored is not honoured (the node sends files as stored), so such a range does not count.
    func acceptsMultipart(of partType: String, storedTransferSyntaxes: Set<String>) -> Bool {
        acceptsAnything || ranges.contains { r in
            if r.type == "*/*" || r.type == "multipart/*" { return true }
            guard r.type == "multipart/related" else { return false }
            if let t = r.parameters["type"], !Self.covers(t.lowercased(), partType) { return false }
            guard let syntax = r.parameters["transfer-syntax"], syntax != "*" else { return true }
            return storedTransferSyntaxes.allSatisfy { $0 == syntax }
        }
    }

    static func covers(_ range: String, _ type: String) -> Bool {
        if range == "*/*" || range == type { return true }
        guard range.hasSuffix("/*") else { return false }
        return type.hasPrefix(range.dropLast())
    }
}

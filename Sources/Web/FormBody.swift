import Foundation

/// An `application/x-www-form-urlencoded` body (what the pages' forms post), by field name.
enum FormBody {
    static func parse(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String? { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let key = decode(kv[0]), out[key] == nil else { continue }
            out[key] = kv.count == 2 ? decode(kv[1]) ?? "" : ""
        }
        return out
    }
}

/// The cross-site request check of the pages' forms and of the upload page's script: a POST made
/// with a session carries the session's token (hidden field `csrf`, or header `X-CSRF-Token`).
enum CSRF {
    static let field = "csrf", header = "X-CSRF-Token"

    static func check(_ presented: String?, session: Session) -> Bool {
        guard let presented else { return false }
        let a = Array(presented.utf8), b = Array(session.csrfToken.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0  // constant time
    }
}

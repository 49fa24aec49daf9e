/// The session cookie: read from `Cookie`, written with `Set-Cookie` (HttpOnly, SameSite=Strict,
/// Path=/; Secure once the node serves TLS).
enum SessionCookie {
    static let name = "lstv_session"

    /// The cookies of a `Cookie` header (`a=1; b=2`), by name; a repeated name keeps its first value.
    static func parse(_ header: String) -> [String: String] {
        var out: [String: String] = [:]
        for piece in header.split(separator: ";") {
            let kv = piece.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            let key = kv[0].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, out[key] == nil else { continue }
            var value = kv[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            out[key] = value
        }
        return out
    }

    static func set(_ session: Session, maxAge: Int, secure: Bool) -> String {
        attributes("\(name)=\(session.id)", maxAge: maxAge, secure: secure)
    }

    static func clear(secure: Bool) -> String { attributes("\(name)=", maxAge: 0, secure: secure) }

    private static func attributes(_ pair: String, maxAge: Int, secure: Bool) -> String {
        "\(pair); Max-Age=\(maxAge); Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }
}

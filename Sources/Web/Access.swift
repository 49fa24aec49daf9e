import Crypto
import Foundation

/// What a token may do. Every API call needs `viewer`; retrying and resending deliveries need `admin`.
public enum Role: String, Codable, Sendable, Comparable, CaseIterable {
    case viewer, admin
    public static func < (a: Role, b: Role) -> Bool { a == .viewer && b == .admin }
}

/// A configured bearer token, kept only as the SHA-256 of the token (`http.tokens`).
public struct TokenRecord: Codable, Sendable, Equatable {
    public var name: String
    public var role: Role
    /// Lower-case hex SHA-256 of the token.
    public var sha256: String
    public init(name: String, role: Role, sha256: String) { self.name = name; self.role = role; self.sha256 = sha256 }
}

/// Who is calling, once a token or session has been checked.
public struct Identity: Sendable, Equatable {
    public var name: String
    public var role: Role
}

/// The tokens the server accepts: the configured ones, and the admin token the node created on its
/// first start (`<data_dir>/http-admin-token.sha256`).
public struct TokenStore: Sendable {
    public let records: [TokenRecord]

    public init(records: [TokenRecord]) { self.records = records }

    public func identity(bearer token: String) -> Identity? {
        let digest = Self.sha256(token)
        return records.first { $0.sha256 == digest }.map { Identity(name: $0.name, role: $0.role) }
    }

    public static func sha256(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// A new token: 32 random bytes, URL-safe base64, prefixed so it is recognisable in a secret store.
    public static func newToken() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return "lstv_" + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The admin token made on a first start without configured tokens: its hash is kept under the
    /// data directory; the token itself is returned once, to be printed, and never stored.
    public static func firstStartAdmin(dataDirectory: String) throws -> (record: TokenRecord, newToken: String?) {
        let path = (dataDirectory as NSString).appendingPathComponent("http-admin-token.sha256")
        // An existing file is never replaced: an unreadable or damaged one is an error to fix by
        // hand, not a reason to mint a new admin token silently.
        if FileManager.default.fileExists(atPath: path) {
            let existing: String
            do { existing = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
                throw WebError("cannot read the admin token hash \(path): \(error.localizedDescription)")
            }
            guard existing.count == 64, existing.allSatisfy(\.isHexDigit) else {
                throw WebError("\(path) does not hold a SHA-256: remove it to have a new admin token made")
            }
            return (TokenRecord(name: "admin", role: .admin, sha256: existing), nil)
        }
        let token = newToken()
        let record = TokenRecord(name: "admin", role: .admin, sha256: sha256(token))
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        // Written whole under a private name, then linked into place: two nodes sharing the data
        // directory and starting together never replace each other's hash, nor read a half-written
        // one; the one that loses the race takes the winner's.
        let fresh = path + ".\(getpid()).new"
        guard FileManager.default.createFile(atPath: fresh, contents: Data((record.sha256 + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw WebError("cannot write \(fresh)")
        }
        defer { unlink(fresh) }
        if link(fresh, path) != 0 {
            guard errno == EEXIST else { throw WebError("cannot write \(path): \(String(cString: strerror(errno)))") }
            return try firstStartAdmin(dataDirectory: dataDirectory)
        }
        return (record, token)
    }
}

public struct WebError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

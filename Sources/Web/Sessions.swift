import Foundation

/// A signed-in browser: who it is, the token its page forms carry against cross-site requests, and
/// when it ends. Kept only in memory: a restart signs everyone out.
public struct Session: Sendable, Equatable {
    public var id: String
    public var csrfToken: String
    public var identity: Identity
    public var expires: Date
}

/// The node's sessions, by their random 256-bit ids. Expired sessions are dropped when met.
public final class SessionStore: @unchecked Sendable {
    public let lifetime: TimeInterval
    private let lock = NSLock()
    private var sessions: [String: Session] = [:]

    public init(lifetime: TimeInterval = 12 * 3600) { self.lifetime = lifetime }

    public func create(for identity: Identity, now: Date = Date()) -> Session {
        let session = Session(id: Self.randomHex(), csrfToken: Self.randomHex(), identity: identity, expires: now + lifetime)
        lock.lock(); defer { lock.unlock() }
        sessions = sessions.filter { $0.value.expires > now }
        sessions[session.id] = session
        return session
    }

    public func session(id: String, now: Date = Date()) -> Session? {
        lock.lock(); defer { lock.unlock() }
        guard let s = sessions[id] else { return nil }
        guard s.expires > now else { sessions[id] = nil; return nil }
        return s
    }

    public func end(id: String) {
        lock.lock(); sessions[id] = nil; lock.unlock()
    }

    /// 32 random bytes as lower-case hex.
    static func randomHex() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
    }
}

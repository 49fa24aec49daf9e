import Audit

/// The web face's audit events: sign-ins (and refused tokens), sign-outs, and the administrative
/// actions taken over HTTP. Who: the token's name, never the token.
public struct WebAudit: Sendable {
    let trail: AuditTrail
    /// The node as it appears in every message.
    let node: ActiveParticipant

    public init(trail: AuditTrail, node: ActiveParticipant) { self.trail = trail; self.node = node }

    func user(_ name: String) -> ActiveParticipant {
        ActiveParticipant(userID: name, isRequestor: true, roles: [])
    }

    func signedIn(_ identity: Identity) {
        trail.record(.userAuthentication(.login, user: user(identity.name), node: node, outcome: .success,
                                         description: "dashboard sign-in, role \(identity.role.rawValue)"))
    }

    func signInRefused() {
        trail.record(.userAuthentication(.login, user: user("unknown token"), node: node, outcome: .minorFailure,
                                         description: "dashboard sign-in with a token that is not known"))
    }

    func signedOut(_ identity: Identity?) {
        trail.record(.userAuthentication(.logout, user: user(identity?.name ?? "unknown"), node: node, outcome: .success))
    }

    /// An admin resent a delivery (API or dashboard).
    func retried(delivery id: Int64, by identity: Identity?, via channel: String) {
        trail.record(.securityAlert(.useOfRestrictedFunction, node: node, by: user(identity?.name ?? "unknown"), outcome: .success,
                                    description: "delivery \(id) retried (\(channel))", resource: "outbox/\(id)"))
    }
}

import Foundation

/// This node process as the owner of the work it claims (`analyses.claimed_by`, `outbox.claimed_by`).
///
/// Several node processes may share one database. Each takes a number from the `claim_owners`
/// sequence and holds the session advisory lock (`lockSpace`, number) on a connection of its own
/// for as long as it lives. PostgreSQL releases that lock the moment the session ends: the process
/// exited, was killed (kill -9 closes its socket), or its host vanished (the session's TCP
/// keepalive, set below, ends it within `keepaliveSeconds`). So "the owner's lock is not held" is
/// exactly "the owner is gone", judged by the database for every node alike, with no clocks to
/// compare and no lease to tune; `Pipeline.releaseAbandoned` takes back only such claims.
///
/// If this process's own lock session breaks (a database failover: advisory locks are not
/// replicated), `renew` opens a new session under a new number. Claims made under the old number
/// are then an abandoned owner's: another node may take them back, and the work finished under the
/// old number is not recorded (`Pipeline.finish` and the `mark…` calls check the claim), so nothing
/// is recorded twice — at worst a job is done again.
public final class ClaimOwner: @unchecked Sendable {
    /// The first key of every owner's advisory lock (the second is the owner's number); apart
    /// from the migrations' lock (7410001).
    public static let lockSpace: Int32 = 7410002
    /// How long a session whose host stopped answering outlives it (server-side TCP keepalive).
    static let keepaliveSeconds = (idle: 10, interval: 5, count: 3)

    private let url: String
    private let lock = NSLock()
    private var connection: Connection?
    private var number: Int32

    /// Takes a number and its lock; fails when the database cannot be reached.
    public init(database: Database) throws {
        url = database.url
        let registered = try ClaimOwner.register(url: url)
        connection = registered.connection
        number = registered.number
    }

    /// The number claims are taken under now.
    public var id: Int32 {
        lock.lock(); defer { lock.unlock() }
        return number
    }

    /// Checks the lock session is alive; when it is not, opens a new one under a new number.
    /// Returns the previous number and why its session was given up when it changed (its claims
    /// are now abandoned), nil when the session is alive.
    @discardableResult
    public func renew() throws -> (previous: Int32, reason: String)? {
        lock.lock(); defer { lock.unlock() }
        var reason = "connection lost"
        if let c = connection, c.isHealthy {
            do {
                try c.execute("SELECT 1")
                return nil
            } catch {
                reason = "\(error)"
            }
        }
        connection = nil
        let old = number
        let registered = try ClaimOwner.register(url: url)
        connection = registered.connection
        number = registered.number
        return (old, reason)
    }

    private static func register(url: String) throws -> (connection: Connection, number: Int32) {
        let c = try Connection(url: url)
        // A session whose client host vanished (no FIN) must end, and release the lock, in
        // seconds rather than after the kernel's default two hours. No effect over a Unix socket.
        let k = keepaliveSeconds
        try c.execute("SELECT set_config('tcp_keepalives_idle', $1, false), set_config('tcp_keepalives_interval', $2, false), set_config('tcp_keepalives_count', $3, false)",
                      [String(k.idle), String(k.interval), String(k.count)])
        guard let n = try c.execute("SELECT nextval('claim_owners')::integer AS n").rows.first?.int("n") else {
            throw StoreError("no claim owner number from the claim_owners sequence")
        }
        // Numbers cycle; one still held by a live process (after 2^31 starts) is skipped.
        guard try c.execute("SELECT pg_try_advisory_lock($1, $2) AS ok", [String(lockSpace), String(n)]).rows.first?.bool("ok") == true else {
            return try register(url: url)
        }
        return (c, Int32(n))
    }

    /// SQL for the numbers whose owner lives: whose advisory lock some session of this database holds.
    static let liveOwnersSQL = """
        SELECT objid::bigint::integer FROM pg_locks
        WHERE locktype = 'advisory' AND classid = \(lockSpace) AND objsubid = 2 AND granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """
}

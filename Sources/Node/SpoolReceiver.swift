import Foundation

/// Which process a partial reception in `spool/incoming` belongs to, and whether that process lives.
///
/// Several node processes may share one spool (two nodes on a shared file system). Each process
/// names its partial files `<token>.<random>.part` and, for its whole life, holds an exclusive
/// `flock` on its marker `<token>.receiver`. The kernel (or the NFSv4 server, when its client's
/// lease ends) releases a lock when its holder dies, kill -9 included, so a marker that can be
/// locked, or is missing, means its writer is gone and none of its partial files was acknowledged:
/// they can go. A marker that cannot be locked is a live process's, mid-transfer: its files stay.
/// The check needs no clock, no process id (pids are per host and get reused) and no heartbeat.
/// flock is per open file description, so a second `Spool` in the same process counts as another
/// writer too.
final class SpoolReceiver {
    static let markerSuffix = ".receiver"
    static let partSuffix = ".part"
    let token = UUID().uuidString.lowercased()
    private let marker: String
    private var fd: Int32

    /// Creates the marker under a name no one else looks at, locks it, then renames it into place,
    /// so no other process ever sees this marker unlocked.
    init(incoming: String) throws {
        let final = (incoming as NSString).appendingPathComponent(token + SpoolReceiver.markerSuffix)
        marker = final
        let fresh = final + ".new"
        fd = open(fresh, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw Spool.Failure(errno: errno, operation: "create receiver marker \(fresh)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let e = errno
            close(fd)
            unlink(fresh)
            throw Spool.Failure(errno: e, operation: "lock receiver marker \(fresh)")
        }
        guard rename(fresh, final) == 0 else {
            let e = errno
            close(fd)
            unlink(fresh)
            throw Spool.Failure(errno: e, operation: "rename receiver marker \(fresh)")
        }
    }

    deinit { release() }

    /// This process receives no more (a clean stop): the marker goes first, then the lock, so a
    /// reconciler that still finds a partial file of ours sees no marker and removes it, and
    /// while we hold the lock it sees a live writer.
    func release() {
        guard fd >= 0 else { return }
        unlink(marker)
        close(fd)
        fd = -1
    }

    /// This process's journal in `incoming`.
    func journalPath(in incoming: String) -> String {
        (incoming as NSString).appendingPathComponent(token + SpoolJournal.suffix)
    }

    /// A new partial file name in `incoming`.
    func partialPath(in incoming: String) -> String {
        (incoming as NSString).appendingPathComponent("\(token).\(UUID().uuidString.lowercased())\(SpoolReceiver.partSuffix)")
    }

    /// Removes the partial files (and the markers) of every writer that is gone; never this
    /// process's own or a live one's. A gone writer's journal is first handed to `replay` (what
    /// it acknowledged may be durable nowhere else) and removed once that succeeded; if it
    /// throws, the writer's files all stay for the next attempt. Returns how many writers were
    /// found gone and how many partial files were removed.
    static func removeAbandoned(in incoming: String, names: [String], replay: (String) throws -> Int) throws -> (writers: Int, parts: Int, replayed: Int) {
        var partsByToken: [String: [String]] = [:]
        var tokens = Set<String>()
        for name in names {
            if name.hasSuffix(partSuffix) {
                // `<token>.<random>.part`; a name without a token (an older version's) has no writer now.
                let token = name.split(separator: ".").count == 3 ? String(name.split(separator: ".")[0]) : name
                partsByToken[token, default: []].append(name)
                tokens.insert(token)
            } else if name.hasSuffix(markerSuffix) {
                tokens.insert(String(name.dropLast(markerSuffix.count)))
            } else if name.hasSuffix(SpoolJournal.suffix) {
                tokens.insert(String(name.dropLast(SpoolJournal.suffix.count)))
            }
        }
        var removed = 0
        var gone = 0
        var replayed = 0
        for token in tokens {
            let marker = (incoming as NSString).appendingPathComponent(token + markerSuffix)
            let fd = open(marker, O_RDWR | O_CLOEXEC)
            if fd >= 0 {
                // Held: a live writer (maybe this process). Not held: its writer died.
                guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { close(fd); continue }
            } else if errno != ENOENT {
                continue  // cannot tell whether the writer lives: leave its files
            }
            let journal = (incoming as NSString).appendingPathComponent(token + SpoolJournal.suffix)
            if access(journal, F_OK) == 0 {
                do {
                    replayed += try replay(journal)
                    unlink(journal)
                    try Spool.fsyncDirectory(incoming)
                } catch {
                    if fd >= 0 { close(fd) }
                    throw error
                }
            }
            gone += 1
            for name in partsByToken[token] ?? [] where unlink((incoming as NSString).appendingPathComponent(name)) == 0 {
                removed += 1
            }
            if fd >= 0 { unlink(marker); close(fd) }
        }
        return (gone, removed, replayed)
    }
}

import Foundation

/// The spool: where instances become durable before they are acknowledged.
///
///     spool/incoming/<token>.<random>.part    data set being received (never acknowledged)
///     spool/incoming/<token>.receiver         flock'd by the receiving process while it lives (SpoolReceiver)
///     spool/incoming/<token>.journal          that process's recycled journal (SpoolJournal)
///     spool/instances/<study>/<series>/<sop>.dcm
///
/// `commit` appends the received file to the journal, which syncs it once (together with the
/// instances of concurrent associations), links it into place (a link that fails because the
/// instance is already there recognises a re-sent instance) and removes the temporary name: after
/// it returns, a power cut cannot lose the instance, since recovery replays the journal's live
/// records into the layout. `SpoolMover` makes the layout durable in batches, off the response
/// path, before the journal reuses the space. An instance the journal cannot take (larger than a
/// quarter of it, or the ring full) is made durable directly: fsync of the file, link, fsync of
/// the directories. Paths are built only from UIDs that passed `UID.isValid`, so no component can
/// be "..", empty or contain a slash.
public final class Spool: @unchecked Sendable {
    public let root: String
    public let incoming: String
    public let instances: String
    /// This process's identity in `incoming`: whose partial files are whose.
    private let receiver: SpoolReceiver
    private let journal: SpoolJournal
    private let mover: SpoolMover

    public enum Outcome: Equatable { case stored(path: String), duplicate(path: String) }

    public struct Failure: Error, CustomStringConvertible {
        public let errno: Int32
        public let operation: String
        public var isOutOfSpace: Bool { errno == ENOSPC || errno == EDQUOT }
        public var description: String { "\(operation): \(String(cString: strerror(errno)))" }
    }

    /// `journalFailed`: told once if the journal stops (a failed write or sync); the spool goes
    /// on with the direct path.
    public init(root: String, journalFailed: @escaping @Sendable (Spool.Failure) -> Void = { _ in }) throws {
        // One spelling of every path (no "//" or "./"): paths are compared as strings.
        let root = URL(fileURLWithPath: root).standardizedFileURL.path
        self.root = root
        incoming = (root as NSString).appendingPathComponent("incoming")
        instances = (root as NSString).appendingPathComponent("instances")
        for dir in [root, incoming, instances] { try Spool.makeDirectory(dir) }
        receiver = try SpoolReceiver(incoming: incoming)
        journal = try SpoolJournal(path: receiver.journalPath(in: incoming))
        mover = try SpoolMover(journal: journal, root: root, failed: journalFailed)
    }

    deinit { stopReceiving() }

    public func temporaryPath() -> String {
        receiver.partialPath(in: incoming)
    }

    /// Where a committed instance lives.
    public func finalPath(study: String, series: String, sop: String) -> String {
        "\(instances)/\(study)/\(series)/\(sop).dcm"
    }

    public func commit(temporaryPath tmp: String, study: String, series: String, sop: String) throws -> Outcome {
        defer { unlink(tmp) }
        let studyDir = "\(instances)/\(study)"
        let seriesDir = "\(studyDir)/\(series)"
        let path = finalPath(study: study, series: series, sop: sop)
        // Only durable instances are linked into place (or live journal records, which recovery
        // rewrites), so one found there needs nothing more.
        if access(path, F_OK) == 0 { return .duplicate(path: path) }
        let record = try journal.append(filePath: tmp, relativePath: "\(study)/\(series)/\(sop).dcm")
        // Whatever happens next (linked, a concurrent association's copy found first, a failure),
        // the record goes to the mover once this returns: a record never retired would hold the
        // ring's space for good.
        defer { if let record { mover.enqueue(record.seq) } }
        if record == nil { try Spool.fsyncFile(tmp) }
        _ = try Spool.makeDirectoryIfMissing(studyDir)
        _ = try Spool.makeDirectoryIfMissing(seriesDir)
        if link(tmp, path) != 0 {
            let e = errno
            if e == EEXIST { return .duplicate(path: path) }
            throw Failure(errno: e, operation: "link into spool")
        }
        if record == nil {
            // Every level, not only the directories made here: one made for a journalled instance
            // may not be synced yet (a clean directory costs no commit).
            for dir in [seriesDir, studyDir, instances] { try Spool.fsyncDirectory(dir) }
        }
        return .stored(path: path)
    }

    /// Makes everything acknowledged durable in the layout and retires the journal (a clean
    /// stop): true when the journal holds nothing live any more.
    func drainJournal() -> Bool {
        mover.drain()
    }

    /// Bytes available to the node on the spool's file system.
    public func freeBytes() -> Int64? {
        var s = statvfs()
        guard statvfs(root, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// Removes data sets that were being received by a process that is gone (none was
    /// acknowledged), after replaying its journal (what it acknowledged but had not yet made
    /// durable in the layout); those of a live process sharing this spool, or of this one, stay.
    /// Returns how many writers were found gone, how many partial files were removed and how
    /// many instances were replayed.
    @discardableResult
    public func removeIncomplete() throws -> (writers: Int, parts: Int, replayed: Int) {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: incoming) } catch {
            throw Failure(errno: EIO, operation: "list \(incoming): \(error)")
        }
        return try SpoolReceiver.removeAbandoned(in: incoming, names: names) { journal in
            try SpoolJournal.replay(path: journal, instances: instances)
        }
    }

    /// Called once nothing is being received any more (a clean stop): the receiver marker goes,
    /// so no other process sharing the spool mistakes this one for a receiver that died.
    public func stopReceiving() {
        if drainJournal() { unlink(journal.path) }
        receiver.release()
    }

    /// Every committed instance file.
    public func committedFiles() -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        for study in (try? fm.contentsOfDirectory(atPath: instances)) ?? [] {
            let studyDir = "\(instances)/\(study)"
            for series in (try? fm.contentsOfDirectory(atPath: studyDir)) ?? [] {
                let seriesDir = "\(studyDir)/\(series)"
                for file in (try? fm.contentsOfDirectory(atPath: seriesDir)) ?? [] where file.hasSuffix(".dcm") {
                    out.append("\(seriesDir)/\(file)")
                }
            }
        }
        return out
    }

    /// Removes files and then the series and study directories if they became empty (a directory
    /// a new instance arrived in meanwhile stays). A file already gone is fine (a purge finished
    /// after a crash); any other failure throws, so the caller does not forget a file still there.
    public func remove(paths: [String]) throws {
        var dirs = Set<String>()
        for p in paths {
            if unlink(p) != 0 && errno != ENOENT { throw Failure(errno: errno, operation: "unlink \(p)") }
            let series = (p as NSString).deletingLastPathComponent
            dirs.insert(series)
            dirs.insert((series as NSString).deletingLastPathComponent)
        }
        for d in dirs.sorted(by: { $0.count > $1.count }) where d.hasPrefix(instances + "/") { rmdir(d) }
    }

    /// The one durable write outside the C-STORE path (the SR and the key image): `write` fills
    /// `path.tmp`, which is fsync'd, renamed over `path`, and the directory fsync'd — the same
    /// promise as `commit`: once this returns, the file survives power loss.
    static func writeDurably(_ path: String, _ write: (String) throws -> Void) throws {
        let tmp = path + ".tmp"
        try write(tmp)
        try fsyncFile(tmp)
        guard rename(tmp, path) == 0 else { throw Failure(errno: errno, operation: "rename \(tmp)") }
        try fsyncDirectory((path as NSString).deletingLastPathComponent)
    }

    static func fsyncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Failure(errno: errno, operation: "open for fsync") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure(errno: errno, operation: "fsync") }
    }

    static func fsyncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw Failure(errno: errno, operation: "open directory for fsync") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure(errno: errno, operation: "fsync directory") }
    }

    /// True if it created the directory.
    static func makeDirectoryIfMissing(_ path: String) throws -> Bool {
        if mkdir(path, 0o750) == 0 { return true }
        if errno == EEXIST { return false }
        throw Failure(errno: errno, operation: "mkdir")
    }

    static func makeDirectory(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw Failure(errno: EACCES, operation: "create \(path)")
        }
    }
}

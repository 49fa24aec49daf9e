import Foundation

/// The spool: where instances become durable before they are acknowledged.
///
///     spool/incoming/<token>.<random>.part    data set being received (never acknowledged)
///     spool/incoming/<token>.receiver         flock'd by the receiving process while it lives (SpoolReceiver)
///     spool/instances/<study>/<series>/<sop>.dcm
///
/// `commit` fsyncs the file, links it into place (link fails if the instance is already there, so
/// a re-sent instance is recognised without a race), removes the temporary name and fsyncs the
/// directories: after it returns, a power cut cannot lose the instance. Paths are built only from
/// UIDs that passed `UID.isValid`, so no component can be "..", empty or contain a slash.
public final class Spool: @unchecked Sendable {
    public let root: String
    public let incoming: String
    public let instances: String
    /// This process's identity in `incoming`: whose partial files are whose.
    private let receiver: SpoolReceiver

    public enum Outcome: Equatable { case stored(path: String), duplicate(path: String) }

    public struct Failure: Error, CustomStringConvertible {
        public let errno: Int32
        public let operation: String
        public var isOutOfSpace: Bool { errno == ENOSPC || errno == EDQUOT }
        public var description: String { "\(operation): \(String(cString: strerror(errno)))" }
    }

    public init(root: String) throws {
        // One spelling of every path (no "//" or "./"): paths are compared as strings.
        let root = URL(fileURLWithPath: root).standardizedFileURL.path
        self.root = root
        incoming = (root as NSString).appendingPathComponent("incoming")
        instances = (root as NSString).appendingPathComponent("instances")
        for dir in [root, incoming, instances] { try Spool.makeDirectory(dir) }
        receiver = try SpoolReceiver(incoming: incoming)
    }

    public func temporaryPath() -> String {
        receiver.partialPath(in: incoming)
    }

    /// Where a committed instance lives.
    public func finalPath(study: String, series: String, sop: String) -> String {
        "\(instances)/\(study)/\(series)/\(sop).dcm"
    }

    public func commit(temporaryPath tmp: String, study: String, series: String, sop: String) throws -> Outcome {
        try Spool.fsyncFile(tmp)
        let studyDir = "\(instances)/\(study)"
        let seriesDir = "\(studyDir)/\(series)"
        if try Spool.makeDirectoryIfMissing(studyDir) { try Spool.fsyncDirectory(instances) }
        if try Spool.makeDirectoryIfMissing(seriesDir) { try Spool.fsyncDirectory(studyDir) }
        let path = finalPath(study: study, series: series, sop: sop)
        if link(tmp, path) != 0 {
            let e = errno
            unlink(tmp)
            if e == EEXIST { return .duplicate(path: path) }
            throw Failure(errno: e, operation: "link into spool")
        }
        unlink(tmp)
        try Spool.fsyncDirectory(seriesDir)
        return .stored(path: path)
    }

    /// Bytes available to the node on the spool's file system.
    public func freeBytes() -> Int64? {
        var s = statvfs()
        guard statvfs(root, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// Removes data sets that were being received by a process that is gone (none was
    /// acknowledged); those of a live process sharing this spool, or of this one, stay. Returns
    /// how many writers were found gone and how many partial files were removed.
    @discardableResult
    public func removeIncomplete() throws -> (writers: Int, parts: Int) {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: incoming) } catch {
            throw Failure(errno: EIO, operation: "list \(incoming): \(error)")
        }
        return SpoolReceiver.removeAbandoned(in: incoming, names: names)
    }

    /// Called once nothing is being received any more (a clean stop): the receiver marker goes,
    /// so no other process sharing the spool mistakes this one for a receiver that died.
    public func stopReceiving() {
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

import DICOM
import Foundation

/// Where a received instance becomes durable before its C-STORE-RSP: one append to a recycled
/// ring file and one `fdatasync`, shared by the instances of concurrent associations (group
/// commit), instead of two journal commits of the file system per instance (fsync of the file,
/// fsync of its directory). `SpoolMover` then makes the spool layout itself durable (one `syncfs`
/// per batch) off the response path, and only after that is a record's space reused.
///
///     incoming/<token>.journal     one per receiving process, next to its flock'd marker
///
/// Layout: two header copies (offsets 0 and 2048, written alternately, the valid one with the
/// higher generation counts) say which records are retired: every record with a sequence number
/// up to `retired` is durable in the spool layout, and the first live one starts at `head`. Records
/// start at 4 KiB boundaries from `recordsStart`, each a 64-byte header, the instance's path
/// relative to `spool/instances` and the file's bytes, all under one checksum; they are written
/// in sequence order around the ring. Recovery (`replay`) walks the live records from `head`:
/// each must carry the next sequence number, the journal's nonce and a matching checksum; the walk
/// stops at the first that does not (a torn, never acknowledged append). A data set that is received
/// (and can hold a forged record) is never read as a header, since the walk steps over payloads.
///
/// The group commit syncs only a contiguous prefix of written records, so a record that is
/// acknowledged never follows a torn one in the walk.
final class SpoolJournal: @unchecked Sendable {
    static let suffix = ".journal"
    /// Sparse on creation; the first lap allocates its blocks, later laps overwrite them.
    static let defaultCapacity: Int = 64 << 20
    /// The file's size (a small one in tests, to wrap around quickly).
    let capacity: Int
    /// A larger instance takes the direct path (fsync of the file and its directories).
    var largestRecord: Int { capacity / 4 }
    static let block = 4096
    static let recordsStart = block
    static let recordHeaderBytes = 64
    private static let headerSlots = [0, 2048]
    private static let headerMagic: UInt64 = 0x4C53_5456_4A48_4452  // "LSTVJHDR"
    private static let recordMagic: UInt64 = 0x4C53_5456_4A52_4E31  // "LSTVJRN1"

    let path: String
    private var fd: Int32
    private let nonce: UInt64
    private let condition = NSCondition()
    /// Records not yet retired durably, in sequence (= ring) order: (sequence, offset, bytes).
    private var live: [(seq: UInt64, offset: Int, size: Int)] = []
    private var tail = recordsStart
    private var nextSeq: UInt64 = 1
    private var writtenThrough: UInt64 = 0
    private var written = Set<UInt64>()
    private var syncedThrough: UInt64 = 0
    private var syncing = false
    private var broken = false
    private var generation: UInt64 = 0
    private var moved = Set<UInt64>()

    struct Record {
        let seq: UInt64
        /// Relative to spool/instances: "<study>/<series>/<sop>.dcm".
        let relativePath: String
    }

    /// Creates the journal (sparse) with its first header, durable, directory entry included,
    /// before anything is acknowledged through it.
    init(path: String, capacity: Int = SpoolJournal.defaultCapacity) throws {
        self.path = path
        self.capacity = capacity
        var n: UInt64 = 0
        while n == 0 { n = UInt64.random(in: 1...UInt64.max) }
        nonce = n
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw Spool.Failure(errno: errno, operation: "create spool journal \(path)") }
        do {
            guard ftruncate(fd, off_t(capacity)) == 0 else { throw Spool.Failure(errno: errno, operation: "size spool journal") }
            try writeHeader(retired: 0, head: SpoolJournal.recordsStart)
            guard fsync(fd) == 0 else { throw Spool.Failure(errno: errno, operation: "fsync spool journal") }
            try Spool.fsyncDirectory((path as NSString).deletingLastPathComponent)
        } catch {
            close(fd)
            fd = -1
            unlink(path)
            throw error
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Appends the file at `filePath` as the instance at `relativePath` and returns once it is
    /// durable; nil when the journal cannot take it (too large, the ring is full, or an earlier
    /// write failed): the caller then makes the file durable itself.
    func append(filePath: String, relativePath: String) throws -> Record? {
        let pathBytes = Array(relativePath.utf8)
        let (source, payload) = try SpoolJournal.openForReading(filePath)
        defer { close(source) }
        let used = SpoolJournal.recordHeaderBytes + pathBytes.count + payload
        let size = (used + SpoolJournal.block - 1) / SpoolJournal.block * SpoolJournal.block
        guard size <= largestRecord else { return nil }

        condition.lock()
        guard !broken, let offset = allocate(size) else { condition.unlock(); return nil }
        let seq = nextSeq
        nextSeq += 1
        live.append((seq, offset, size))
        condition.unlock()

        var buffer = [UInt8](repeating: 0, count: used)
        let ok: Bool = buffer.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            let body = base + SpoolJournal.recordHeaderBytes
            pathBytes.withUnsafeBytes { body.copyMemory(from: $0.baseAddress!, byteCount: pathBytes.count) }
            var got = 0
            while got < payload {
                let r = pread(source, body + pathBytes.count + got, payload - got, off_t(got))
                if r < 0 && errno == EINTR { continue }
                if r <= 0 { return false }
                got += r
            }
            let fields: [UInt64] = [SpoolJournal.recordMagic, nonce, seq, UInt64(payload), UInt64(pathBytes.count)]
            for (i, v) in fields.enumerated() { (base + i * 8).storeBytes(of: v.littleEndian, as: UInt64.self) }
            let sum = SpoolJournal.checksum(UnsafeRawBufferPointer(start: base, count: 40),
                                            UnsafeRawBufferPointer(start: body, count: used - SpoolJournal.recordHeaderBytes))
            (base + 40).storeBytes(of: sum.littleEndian, as: UInt64.self)
            return SpoolJournal.writeAll(fd, UnsafeRawBufferPointer(raw), at: offset)
        }

        condition.lock()
        defer { condition.unlock() }
        guard ok else {
            // The ring now has a hole no later record may be synced past: the journal stops here.
            broken = true
            condition.broadcast()
            throw Spool.Failure(errno: errno == 0 ? EIO : errno, operation: "write spool journal record")
        }
        written.insert(seq)
        while written.remove(writtenThrough + 1) != nil { writtenThrough += 1 }
        condition.broadcast()
        while syncedThrough < seq {
            if broken { throw Spool.Failure(errno: EIO, operation: "spool journal failed") }
            if syncing || writtenThrough < seq { condition.wait(); continue }
            // Leader: one fdatasync for every record written so far (ours and the other associations').
            syncing = true
            let upTo = writtenThrough
            condition.unlock()
            let r = fdatasync(fd)
            let e = errno
            condition.lock()
            syncing = false
            if r != 0 {
                broken = true
                condition.broadcast()
                throw Spool.Failure(errno: e, operation: "fdatasync spool journal")
            }
            syncedThrough = max(syncedThrough, upTo)
            condition.broadcast()
        }
        return Record(seq: seq, relativePath: relativePath)
    }

    /// A place for `size` bytes in the ring, or nil when the live records leave none.
    private func allocate(_ size: Int) -> Int? {
        var at: Int?
        if let head = live.first?.offset {
            if tail > head {
                if tail + size <= capacity { at = tail }
                else if SpoolJournal.recordsStart + size <= head { at = SpoolJournal.recordsStart }
            } else if tail + size <= head {
                at = tail
            }
        } else if tail + size <= capacity {
            at = tail
        } else {
            at = SpoolJournal.recordsStart
        }
        if let at { tail = at + size }
        return at
    }

    /// The instances of `seqs` are durable in the spool layout (`SpoolMover` synced them): the
    /// header is advanced past every record up to the first one still in flight, made durable,
    /// and only then is their space reused.
    func retire(_ seqs: [UInt64]) throws {
        condition.lock()
        moved.formUnion(seqs)
        var count = 0
        var retired: UInt64 = 0
        while count < live.count, moved.contains(live[count].seq) {
            retired = live[count].seq
            count += 1
        }
        let head = count < live.count ? live[count].offset : tail
        let isBroken = broken
        condition.unlock()
        guard count > 0, !isBroken else { return }
        try writeHeader(retired: retired, head: head)
        guard fdatasync(fd) == 0 else { throw Spool.Failure(errno: errno, operation: "fdatasync spool journal header") }
        condition.lock()
        for r in live.prefix(count) { moved.remove(r.seq) }
        live.removeFirst(count)
        condition.unlock()
    }

    /// How many records are not yet retired.
    var liveCount: Int {
        condition.lock(); defer { condition.unlock() }
        return live.count
    }

    private func writeHeader(retired: UInt64, head: Int) throws {
        generation += 1
        var h = [UInt8](repeating: 0, count: 64)
        h.withUnsafeMutableBytes { raw in
            let fields: [UInt64] = [SpoolJournal.headerMagic, nonce, generation, retired, UInt64(head), UInt64(capacity)]
            for (i, v) in fields.enumerated() { raw.storeBytes(of: v.littleEndian, toByteOffset: i * 8, as: UInt64.self) }
            let sum = SpoolJournal.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<48]), UnsafeRawBufferPointer(start: nil, count: 0))
            raw.storeBytes(of: sum.littleEndian, toByteOffset: 48, as: UInt64.self)
        }
        let slot = SpoolJournal.headerSlots[Int(generation % 2)]
        guard h.withUnsafeBytes({ SpoolJournal.writeAll(fd, $0, at: slot) }) else {
            throw Spool.Failure(errno: errno, operation: "write spool journal header")
        }
    }

    // MARK: recovery

    /// Writes every live record of the journal at `path` (a receiver that is gone) into the spool
    /// layout under `instances`, durably, replacing what a power cut may have left there half
    /// written. Returns how many instances were replayed. A journal that cannot be read throws,
    /// and stays for the next attempt.
    static func replay(path: String, instances: String) throws -> Int {
        let (fd, fileSize) = try openForReading(path)
        defer { close(fd) }
        // The valid header copy with the higher generation.
        var best: (generation: UInt64, nonce: UInt64, retired: UInt64, head: Int)?
        for slot in headerSlots {
            guard let h = readAll(fd, count: 64, at: slot), h.count == 64 else { continue }
            let f = (0..<7).map { i in h.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) } }
            let sum = h.withUnsafeBytes { checksum(UnsafeRawBufferPointer(rebasing: $0[0..<48]), UnsafeRawBufferPointer(start: nil, count: 0)) }
            guard f[0] == headerMagic, f[6] == sum, f[4] >= UInt64(recordsStart), f[4] <= UInt64(fileSize) else { continue }
            if best == nil || f[2] > best!.generation { best = (f[2], f[1], f[3], Int(f[4])) }
        }
        guard let header = best else {
            throw Spool.Failure(errno: EIO, operation: "spool journal \(path): no valid header")
        }
        var expected = header.retired + 1
        var offset = header.head
        var replayed = 0
        walk: while true {
            for candidate in [offset, recordsStart] {
                guard let found = readRecord(fd, at: candidate, fileSize: fileSize, nonce: header.nonce, seq: expected) else { continue }
                try writeInstance(found.payload, relativePath: found.relativePath, instances: instances)
                replayed += 1
                expected += 1
                offset = candidate + found.size
                continue walk
            }
            break
        }
        return replayed
    }

    /// The record with sequence number `seq` at `offset`, if one is there whole: its relative
    /// path, its bytes and the ring space it takes.
    private static func readRecord(_ fd: Int32, at offset: Int, fileSize: Int, nonce: UInt64,
                                   seq: UInt64) -> (relativePath: String, payload: [UInt8], size: Int)? {
        guard offset + recordHeaderBytes <= fileSize, let h = readAll(fd, count: recordHeaderBytes, at: offset) else { return nil }
        let f = (0..<6).map { i in h.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) } }
        guard f[0] == recordMagic, f[1] == nonce, f[2] == seq, f[4] <= 1024, f[3] <= UInt64(fileSize) else { return nil }
        let pathCount = Int(f[4]), payloadCount = Int(f[3])
        let used = recordHeaderBytes + pathCount + payloadCount
        guard offset + used <= fileSize, let body = readAll(fd, count: used - recordHeaderBytes, at: offset + recordHeaderBytes) else { return nil }
        let sum = h.withUnsafeBytes { hb in body.withUnsafeBytes { checksum(UnsafeRawBufferPointer(rebasing: hb[0..<40]), $0) } }
        guard sum == f[5], let relative = String(bytes: body[0..<pathCount], encoding: .utf8) else { return nil }
        let parts = relative.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts[2].hasSuffix(".dcm"),
              [parts[0], parts[1], String(parts[2].dropLast(4))].allSatisfy(UID.isValid) else { return nil }
        return (relative, Array(body[pathCount...]), (used + block - 1) / block * block)
    }

    /// The instance's file, durable: directories created (their parents synced), the bytes
    /// written to a temporary name, synced, renamed over the final name, the directory synced.
    private static func writeInstance(_ bytes: [UInt8], relativePath: String, instances: String) throws {
        let parts = relativePath.split(separator: "/").map(String.init)
        let study = "\(instances)/\(parts[0])", series = "\(study)/\(parts[1])"
        if try Spool.makeDirectoryIfMissing(study) { try Spool.fsyncDirectory(instances) }
        if try Spool.makeDirectoryIfMissing(series) { try Spool.fsyncDirectory(study) }
        try Spool.writeDurably("\(series)/\(parts[2])") { tmp in
            let out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
            guard out >= 0 else { throw Spool.Failure(errno: errno, operation: "create \(tmp)") }
            defer { close(out) }
            guard bytes.withUnsafeBytes({ writeAll(out, $0, at: 0) }) else { throw Spool.Failure(errno: errno, operation: "write \(tmp)") }
        }
    }

    // MARK: bytes

    /// An open descriptor (the caller closes it) and the file's size.
    private static func openForReading(_ path: String) throws -> (Int32, Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Spool.Failure(errno: errno, operation: "open \(path)") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw Spool.Failure(errno: e, operation: "stat \(path)")
        }
        return (fd, Int(st.st_size))
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        while done < bytes.count {
            let r = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { return false }
            done += r
        }
        return true
    }

    private static func readAll(_ fd: Int32, count: Int, at offset: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        let ok: Bool = out.withUnsafeMutableBytes { raw in
            var done = 0
            while done < count {
                let r = pread(fd, raw.baseAddress! + done, count - done, off_t(offset + done))
                if r < 0 && errno == EINTR { continue }
                if r <= 0 { return false }
                done += r
            }
            return true
        }
        return ok ? out : nil
    }

    /// A 64-bit checksum that finds torn writes (not an adversary's forgery: the nonce and the
    /// walk over payloads keep received bytes from being read as records), fast enough to cost
    /// little next to the copy: 8-byte words, multiply and rotate.
    static func checksum(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        for part in [a, b] where part.count > 0 {
            let words = part.count / 8
            var i = 0
            while i < words {
                h = (h ^ UInt64(littleEndian: part.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))) &* 0x0000_0100_0000_01B3
                h = (h << 29) | (h >> 35)
                i += 1
            }
            for j in (words * 8)..<part.count { h = (h ^ UInt64(part[j])) &* 0x0000_0100_0000_01B3 }
            h ^= UInt64(part.count)
        }
        return h
    }
}

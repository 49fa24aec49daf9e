import Foundation

/// Makes the spool layout durable behind the journal, off the response path: the instances
/// acknowledged through the journal are already linked under `spool/instances` (page cache);
/// a batch of them is made durable with one `syncfs` (data, inodes and the directory entries of
/// all of them in one file-system commit), then the journal retires their records and reuses
/// their space. A batch is whatever arrived while the previous one was being synced, so a busy
/// node syncs less often per instance.
///
/// `LSTV_SPOOL_HOLD_JOURNAL=1` (tests only): nothing is retired, so a test can kill the node
/// while instances are durable only in the journal and check that recovery replays them.
final class SpoolMover: @unchecked Sendable {
    static let holdEnvironmentKey = "LSTV_SPOOL_HOLD_JOURNAL"
    private let journal: SpoolJournal
    private let syncTarget: Int32
    private let condition = NSCondition()
    private var queue: [UInt64] = []
    private var busy = false
    private var stopping = false
    private let hold = ProcessInfo.processInfo.environment[SpoolMover.holdEnvironmentKey] == "1"
    private var failure: Spool.Failure?
    private let failed: @Sendable (Spool.Failure) -> Void

    /// `root`: any directory on the spool's file system; `failed`: told when the mover stops.
    init(journal: SpoolJournal, root: String, failed: @escaping @Sendable (Spool.Failure) -> Void) throws {
        self.journal = journal
        self.failed = failed
        syncTarget = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard syncTarget >= 0 else { throw Spool.Failure(errno: errno, operation: "open \(root)") }
        let t = Thread { [self] in run() }
        t.name = "spool-mover"
        t.start()
    }

    deinit { close(syncTarget) }

    /// syncfs(2): Glibc declares it only under _GNU_SOURCE, which Swift's Glibc module does not
    /// import, so it is looked up in the C library once.
    private static let syncfs: @convention(c) (Int32) -> Int32 = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syncfs") else {
            fatalError("syncfs not found in the C library (Linux 2.6.39 and glibc 2.14 have it)")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
    }()

    func enqueue(_ seq: UInt64) {
        condition.lock()
        queue.append(seq)
        condition.signal()
        condition.unlock()
    }

    /// Syncs and retires what is queued, then stops the thread. True when every record was retired.
    func drain() -> Bool {
        condition.lock()
        stopping = true
        condition.broadcast()
        while busy || (!queue.isEmpty && !hold && failure == nil) { condition.wait() }
        condition.unlock()
        return journal.liveCount == 0
    }

    private func run() {
        while true {
            condition.lock()
            while (queue.isEmpty || hold) && !stopping { condition.wait() }
            if queue.isEmpty || hold || failure != nil { condition.unlock(); return }
            let batch = queue
            queue = []
            busy = true
            condition.unlock()
            do {
                guard SpoolMover.syncfs(syncTarget) == 0 else { throw Spool.Failure(errno: errno, operation: "syncfs spool") }
                try journal.retire(batch)
            } catch {
                // Records stay live: the journal keeps them until a restart replays them, and the
                // ring fills, so later instances take the direct path. Nothing acknowledged is lost.
                let f = (error as? Spool.Failure) ?? Spool.Failure(errno: EIO, operation: "\(error)")
                condition.lock()
                failure = f
                condition.unlock()
                failed(f)
            }
            condition.lock()
            busy = false
            condition.broadcast()
            condition.unlock()
        }
    }
}

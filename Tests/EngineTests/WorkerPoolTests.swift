import Foundation
import XCTest
@testable import Engine

/// The session's fork-join pool: each run runs every part once, on its own thread, and returns only
/// when all are done; a run of one part (or a pool of one thread) stays on the caller; shutdown
/// ends the threads.
final class WorkerPoolTests: XCTestCase {
    /// Records which part ran, how often, with which `parts` and on which thread.
    final class Recorder: ParallelWork {
        struct Call: Hashable { let part: Int, parts: Int }
        private let lock = NSLock()
        private(set) var calls: [Call: Int] = [:]
        private(set) var threads: [Int: Set<pid_t>] = [:]
        /// Parts other than 0 take this long, so a run that returned before them would be seen.
        var workerDelay: useconds_t = 0

        func runPart(_ part: Int, of parts: Int) {
            if part != 0 && workerDelay > 0 { usleep(workerDelay) }
            let tid = WorkerPoolTests.threadID()
            lock.lock()
            calls[Call(part: part, parts: parts), default: 0] += 1
            threads[part, default: []].insert(tid)
            lock.unlock()
        }

        var snapshot: (calls: [Call: Int], threads: [Int: Set<pid_t>]) {
            lock.lock(); defer { lock.unlock() }
            return (calls, threads)
        }
    }

    static var callerTID: pid_t { threadID() }

    /// The kernel's id of the calling thread (/proc/thread-self is "<pid>/task/<tid>"; gettid is
    /// not exported to Swift).
    static func threadID() -> pid_t {
        let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? ""
        return pid_t(link.split(separator: "/").last ?? "") ?? -1
    }

    /// The process's threads, as the kernel lists them.
    static func threadIDs() -> Set<pid_t> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).compactMap { pid_t($0) })
    }

    func testEveryPartRunsOnceOnItsOwnThreadBeforeRunReturns() {
        let work = Recorder()
        work.workerDelay = 20_000
        let pool = WorkerPool(threads: 4, work: work)
        defer { pool.shutdown() }
        pool.run(parts: 4)
        let s = work.snapshot
        XCTAssertEqual(s.calls, [.init(part: 0, parts: 4): 1, .init(part: 1, parts: 4): 1, .init(part: 2, parts: 4): 1,
                                 .init(part: 3, parts: 4): 1])
        XCTAssertEqual(s.threads[0], [Self.callerTID], "part 0 runs on the calling thread")
        XCTAssertEqual(Set(s.threads.values.flatMap { $0 }).count, 4, "parts shared a thread")
    }

    /// Many runs, with fewer parts than threads too: each part once per run, never a part >= parts.
    func testRepeatedRunsOfVaryingSize() {
        let work = Recorder()
        let pool = WorkerPool(threads: 4, work: work)
        defer { pool.shutdown() }
        for _ in 0..<100 {
            for parts in 2...4 { pool.run(parts: parts) }
        }
        var expected: [Recorder.Call: Int] = [:]
        for parts in 2...4 { for part in 0..<parts { expected[.init(part: part, parts: parts)] = 100 } }
        XCTAssertEqual(work.snapshot.calls, expected)
    }

    /// One thread, or one part: the caller does it all as part 0 of 1, and no thread is started.
    func testSingleThreadAndSinglePartRunOnTheCaller() {
        let before = Self.threadIDs()
        let work = Recorder()
        let single = WorkerPool(threads: 1, work: work)
        XCTAssertEqual(Self.threadIDs().subtracting(before), [], "a one-thread pool started a thread")
        single.run(parts: 1)
        single.shutdown()
        let pool = WorkerPool(threads: 3, work: work)
        defer { pool.shutdown() }
        pool.run(parts: 1)
        XCTAssertEqual(work.snapshot.calls, [.init(part: 0, parts: 1): 2])
        XCTAssertEqual(work.snapshot.threads[0], [Self.callerTID])
        XCTAssertEqual(WorkerPool(threads: 0, work: work).threads, 1, "fewer than one thread is one")
    }

    /// shutdown ends the pool's threads: those that ran parts are gone from the process.
    func testShutdownEndsTheThreads() {
        let work = Recorder()
        let before = Self.threadIDs()
        let pool = WorkerPool(threads: 4, work: work)
        pool.run(parts: 4)
        let workers = Set(work.snapshot.threads.filter { $0.key != 0 }.values.flatMap { $0 })
        XCTAssertEqual(workers.count, 3)
        XCTAssertTrue(workers.isDisjoint(with: before))
        XCTAssertTrue(workers.isSubset(of: Self.threadIDs()))
        pool.shutdown()
        // pthread_join returns when the thread has finished; the kernel drops its task entry just after.
        waitUntilGone(workers)
    }

    func waitUntilGone(_ threads: Set<pid_t>, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(5)
        while !threads.isDisjoint(with: Self.threadIDs()) {
            if Date() >= deadline { return XCTFail("threads still running: \(threads.intersection(Self.threadIDs()))", file: file, line: line) }
            usleep(1000)
        }
    }
}

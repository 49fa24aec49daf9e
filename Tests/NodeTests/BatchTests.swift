import Foundation
@testable import Node
import XCTest

/// `analyze --jobs`: the order-preserving parallel map, the progress line and the summary.
final class OrderedParallelMapTests: XCTestCase {
    /// A worker that records which threads ran it (each must be run by one thread only).
    final class Worker: @unchecked Sendable {
        let id: Int
        private let lock = NSLock()
        private var threads = Set<ObjectIdentifier>()
        init(id: Int) { self.id = id }
        func ran() { lock.lock(); threads.insert(ObjectIdentifier(Thread.current)); lock.unlock() }
        var threadCount: Int { lock.lock(); defer { lock.unlock() }; return threads.count }
    }

    func testResultsKeepTheItemsOrderWhenTheyFinishInAnotherOrder() {
        // Item 0 waits until item 1 has finished: with two threads they finish 1, 0; the results
        // must still come back 0, 1, 2, 3.
        let item1Done = DispatchSemaphore(value: 0)
        let lock = NSLock()
        var finishedOrder: [Int] = [], counts: [Int] = []
        var waited = DispatchTimeoutResult.timedOut
        let workers = [Worker(id: 0), Worker(id: 1)]
        let results = OrderedParallelMap.map([0, 1, 2, 3], workers: workers, body: { worker, item -> String in
            worker.ran()
            if item == 0 { waited = item1Done.wait(timeout: .now() + 60) }
            return "r\(item)"
        }, finished: { index, result, done in
            lock.lock(); finishedOrder.append(index); counts.append(done); lock.unlock()
            XCTAssertEqual(result, "r\(index)")
            if index == 1 { item1Done.signal() }
        })
        XCTAssertEqual(waited, .success, "item 1 never finished while item 0 was running: the items did not run in parallel")
        XCTAssertEqual(results, ["r0", "r1", "r2", "r3"])
        XCTAssertEqual(finishedOrder.first, 1, "finished order \(finishedOrder)")
        XCTAssertEqual(Set(finishedOrder), [0, 1, 2, 3])
        XCTAssertEqual(counts, [1, 2, 3, 4], "done counts each finish once, in order")
        for w in workers { XCTAssertEqual(w.threadCount, 1, "worker \(w.id) was run by \(w.threadCount) threads") }
    }

    func testOneWorkerRunsTheItemsInOrder() {
        var seen: [Int] = []
        let results = OrderedParallelMap.map(Array(0..<20), workers: [Worker(id: 0)], body: { _, item -> Int in
            seen.append(item)  // one thread: no lock needed
            return item * item
        })
        XCTAssertEqual(seen, Array(0..<20))
        XCTAssertEqual(results, (0..<20).map { $0 * $0 })
    }

    func testMoreWorkersThanItemsAndNoItems() {
        let workers = (0..<8).map(Worker.init)
        let results = OrderedParallelMap.map([10, 20], workers: workers, body: { w, item -> Int in w.ran(); return item + 1 })
        XCTAssertEqual(results, [11, 21])
        XCTAssertLessThanOrEqual(workers.filter { $0.threadCount > 0 }.count, 2, "only as many threads as items run")
        XCTAssertEqual(OrderedParallelMap.map([Int](), workers: [Worker](), body: { _, i in i }), [])
    }

    func testManyItemsOnSeveralThreadsAreEachDoneOnce() {
        let lock = NSLock()
        var calls = [Int: Int]()
        let results = OrderedParallelMap.map(Array(0..<500), workers: (0..<4).map(Worker.init), body: { _, item -> Int in
            lock.lock(); calls[item, default: 0] += 1; lock.unlock()
            return -item
        })
        XCTAssertEqual(results, (0..<500).map { -$0 })
        XCTAssertEqual(calls.count, 500)
        XCTAssertTrue(calls.values.allSatisfy { $0 == 1 })
    }
}

final class BatchProgressTests: XCTestCase {
    func testBeforeTheFirstSeriesFinishesThereIsNoRateYet() {
        let p = BatchProgress(total: 3)
        XCTAssertNil(p.perMinute)
        XCTAssertNil(p.secondsLeft)
        XCTAssertEqual(p.line(barWidth: 6), "[------] 0/3 series  -- series/min  --:-- left")
    }

    func testRateAndTimeLeft() {
        // 2 of 6 in 30 s: 4 series/min, 4 left → 60 s.
        let p = BatchProgress(total: 6, done: 2, elapsed: 30)
        XCTAssertEqual(p.perMinute, 4)
        XCTAssertEqual(p.secondsLeft, 60)
        XCTAssertEqual(p.line(barWidth: 6), "[##----] 2/6 series  4.0 series/min  1:00 left")
        XCTAssertEqual(BatchProgress(total: 3, done: 3, elapsed: 7).line(barWidth: 3), "[###] 3/3 series  25.7 series/min  0:00 left")
    }

    func testDurations() {
        XCTAssertEqual(BatchProgress.duration(0), "0:00")
        XCTAssertEqual(BatchProgress.duration(0.2), "0:01", "rounded up: 0:00 only when done")
        XCTAssertEqual(BatchProgress.duration(59.5), "1:00")
        XCTAssertEqual(BatchProgress.duration(605), "10:05")
        XCTAssertEqual(BatchProgress.duration(3725), "1:02:05")
        XCTAssertEqual(BatchProgress.oneDecimal(85.06), "85.1")
        XCTAssertEqual(BatchProgress.oneDecimal(0.04), "0.0")
    }

    func testSummaryLine() {
        XCTAssertEqual(BatchSummary(analysed: 3, ignored: 3, unreadableFiles: 0, failed: 0).line,
                       "3 series analysed, 3 ignored (not routed to the localizer), 0 unreadable files, 0 failed")
        XCTAssertEqual(BatchSummary(analysed: 0, ignored: 0, unreadableFiles: 1, failed: 2).line,
                       "0 series analysed, 0 ignored (not routed to the localizer), 1 unreadable file, 2 failed")
    }
}

import Foundation

/// A map over a batch on several threads whose result does not depend on how many: results come
/// back in the items' order, whatever order they finish in, so `analyze --jobs N` prints what
/// `--jobs 1` prints.
///
/// Each thread owns one worker (an `Analyzer`: its engine session has planned memory and is not
/// thread-safe) for the whole batch. Items are taken in order from a shared cursor, so a free
/// thread takes the next one and one slow series does not hold up the others.
public enum OrderedParallelMap {
    /// Runs `body(worker, item)` for every item, one thread per worker (threads beyond the item
    /// count are not started), and returns the results in `items` order. `finished(index, result,
    /// done)` is called once per item as it finishes, one call at a time (serialised under a lock),
    /// `done` counting 1, 2, … `items.count`: progress and per-item messages go there.
    public static func map<Worker, Item, Result>(
        _ items: [Item], workers: [Worker],
        body: @escaping (Worker, Item) -> Result,
        finished: @escaping (_ index: Int, _ result: Result, _ done: Int) -> Void = { _, _, _ in }
    ) -> [Result] {
        precondition(!workers.isEmpty || items.isEmpty, "no worker for \(items.count) items")
        let state = Shared<Result>(count: items.count)
        let group = DispatchGroup()
        for (i, worker) in workers.prefix(items.count).enumerated() {
            group.enter()
            let t = Thread {
                defer { group.leave() }
                while let index = state.next() {
                    let result = body(worker, items[index])
                    state.store(result, at: index, finished: finished)
                }
            }
            t.name = "batch-\(i)"
            t.start()
        }
        group.wait()
        return state.results()
    }

    /// The cursor and the result slots, behind one lock.
    private final class Shared<Result>: @unchecked Sendable {
        private let lock = NSLock()
        private var cursor = 0
        private var done = 0
        private var slots: [Result?]

        init(count: Int) { slots = Array(repeating: nil, count: count) }

        func next() -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard cursor < slots.count else { return nil }
            cursor += 1
            return cursor - 1
        }

        func store(_ result: Result, at index: Int, finished: (Int, Result, Int) -> Void) {
            lock.lock(); defer { lock.unlock() }
            slots[index] = result
            done += 1
            finished(index, result, done)
        }

        func results() -> [Result] {
            lock.lock(); defer { lock.unlock() }
            return slots.map { $0! }
        }
    }
}

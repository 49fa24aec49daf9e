// A tiny fork-join pool for the session's own parallel loops: `threads - 1` pthreads plus the
// calling thread as part 0. `run(parts)` starts them, every thread runs `work.runPart(i, of: parts)`,
// and it returns when all are done.
//
// Why not OpenBLAS's threads: they parallelise inside each sgemm call, leaving im2col, Winograd
// transforms and epilogues serial, and they synchronise (spinning) inside every one of the ~150
// GEMMs per image, which collapses when the machine is busy. Splitting each op into independent
// parts — each doing its own im2col + single-threaded sgemm + epilogue on its own scratch —
// parallelises everything and synchronises once per op. Nothing here allocates after init.
//
// Waiting: a run has ~100 ops of 0.1-1 ms each at batch 1, so a futex wake per op (tens of
// microseconds before a sleeping thread runs again) is a real share of the run. Both sides
// therefore poll first and only then sleep on a condition variable: a few hundred PAUSEs, then
// `sched_yield` (which returns at once on an idle core but lets another runnable task have a busy
// one), `spinLimit` polls in all (~1 ms), so within a run nobody sleeps and between runs (an idle
// node) nobody polls for long. Measured with the bench network at 2 threads, batch 1: quiet,
// sleeping at once 45-53 ms, polling 40-48; with a busy loop on one core, sleeping at once 87-99
// ms, polling with PAUSE alone 151-156 ms (the poller took CPU from the part it waited for),
// PAUSE then yield 83-93 ms. The generation counter and the pending count are atomics; the mutex
// only guards the sleeping, and each side re-checks the atomic under it, so a wake cannot be lost.

import CKernels
import Foundation
import Synchronization

protocol ParallelWork: AnyObject {
    func runPart(_ part: Int, of parts: Int)
}

final class WorkerPool {
    let threads: Int
    /// Polls before a waiting thread goes to sleep; the first `pausePolls` with PAUSE, the rest
    /// with sched_yield.
    static let spinLimit = 2_000
    static let pausePolls = 256
    private unowned(unsafe) let work: ParallelWork
    // Heap cells, not stored properties: pthread objects must not move, and `&property` would
    // not promise a stable address.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Incremented by each run (and by shutdown): workers start a part when it moves.
    private let generation = Atomic<Int>(0)
    /// Workers still running the current generation's parts.
    private let pending = Atomic<Int>(0)
    /// Set (with its own generation) by shutdown.
    private let stopping = Atomic<Bool>(false)
    /// The current run's part count, written before `generation` moves (release/acquire).
    private let parts = Atomic<Int>(1)
    private let nextIndex = Atomic<Int>(1)
    private var handles: [pthread_t] = []

    init(threads: Int, work: ParallelWork) {
        self.threads = max(1, threads)
        self.work = work
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
        for _ in 1..<self.threads {
            var t = pthread_t()
            let me = Unmanaged.passUnretained(self).toOpaque()
            let rc = pthread_create(&t, nil, { arg in
                Unmanaged<WorkerPool>.fromOpaque(arg!).takeUnretainedValue().loop()
                return nil
            }, me)
            precondition(rc == 0, "pthread_create failed: \(rc)")
            handles.append(t)
        }
    }

    /// Stops and joins the workers. Must be called before the pool (and its work) go away.
    func shutdown() {
        stopping.store(true, ordering: .releasing)
        generation.add(1, ordering: .releasing)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for t in handles { pthread_join(t, nil) }
        handles = []
    }

    deinit {
        pthread_cond_destroy(wake)
        pthread_cond_destroy(done)
        pthread_mutex_destroy(mutex)
        wake.deallocate()
        done.deallocate()
        mutex.deallocate()
    }

    /// Waits until `condition` holds: spinning, then sleeping on `cond` (whose signaller changes the
    /// condition's atomic before taking the mutex to signal).
    private func wait(on cond: UnsafeMutablePointer<pthread_cond_t>, until condition: () -> Bool) {
        for i in 0..<WorkerPool.spinLimit {
            if condition() { return }
            if i < WorkerPool.pausePolls { lstv_spin_pause() } else { sched_yield() }
        }
        pthread_mutex_lock(mutex)
        while !condition() { pthread_cond_wait(cond, mutex) }
        pthread_mutex_unlock(mutex)
    }

    private func loop() {
        let index = nextIndex.add(1, ordering: .relaxed).oldValue
        var seen = 0  // not the generation now: a run may already have started before this thread did
        while true {
            wait(on: wake) { generation.load(ordering: .acquiring) != seen }
            if stopping.load(ordering: .acquiring) { return }
            seen = generation.load(ordering: .acquiring)
            let n = parts.load(ordering: .relaxed)
            if index < n { work.runPart(index, of: n) }
            if pending.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(done)
                pthread_mutex_unlock(mutex)
            }
        }
    }

    /// Runs parts 0..<parts (parts <= threads); part 0 on the calling thread.
    func run(parts n: Int) {
        if threads == 1 || n == 1 {
            work.runPart(0, of: 1)
            return
        }
        parts.store(n, ordering: .relaxed)
        pending.store(threads - 1, ordering: .relaxed)
        generation.add(1, ordering: .releasing)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        work.runPart(0, of: n)
        wait(on: done) { pending.load(ordering: .acquiring) == 0 }
    }
}

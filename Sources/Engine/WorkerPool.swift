// A tiny fork-join pool for the session's own parallel loops: `threads - 1` pthreads that sleep on
// a condition variable, plus the calling thread as part 0. `run(parts)` wakes them, every thread
// runs `work.runPart(i, of: parts)`, and it returns when all are done.
//
// Why not OpenBLAS's threads: they parallelise inside each sgemm call, leaving im2col, Winograd
// transforms and epilogues serial, and they synchronise (spinning) inside every one of the ~150
// GEMMs per image, which collapses when the machine is busy. Splitting each op into independent
// parts — each doing its own im2col + single-threaded sgemm + epilogue on its own scratch —
// parallelises everything and synchronises once per op. Nothing here allocates after init.

import Foundation

protocol ParallelWork: AnyObject {
    func runPart(_ part: Int, of parts: Int)
}

final class WorkerPool {
    let threads: Int
    private unowned(unsafe) let work: ParallelWork
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var done = pthread_cond_t()
    private var generation = 0
    private var pending = 0
    private var parts = 1
    private var stopping = false
    private var nextIndex = 1
    private var handles: [pthread_t] = []

    init(threads: Int, work: ParallelWork) {
        self.threads = max(1, threads)
        self.work = work
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        pthread_cond_init(&done, nil)
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
        pthread_mutex_lock(&mutex)
        stopping = true
        pthread_cond_broadcast(&wake)
        pthread_mutex_unlock(&mutex)
        for t in handles { pthread_join(t, nil) }
        handles = []
    }

    deinit {
        pthread_cond_destroy(&wake)
        pthread_cond_destroy(&done)
        pthread_mutex_destroy(&mutex)
    }

    private func loop() {
        pthread_mutex_lock(&mutex)
        let index = nextIndex
        nextIndex += 1
        var seen = 0  // not `generation`: a run may already have started before this thread did
        while true {
            while generation == seen && !stopping { pthread_cond_wait(&wake, &mutex) }
            if stopping { break }
            seen = generation
            let n = parts
            pthread_mutex_unlock(&mutex)
            if index < n { work.runPart(index, of: n) }
            pthread_mutex_lock(&mutex)
            pending -= 1
            if pending == 0 { pthread_cond_signal(&done) }
        }
        pthread_mutex_unlock(&mutex)
    }

    /// Runs parts 0..<parts (parts <= threads); part 0 on the calling thread.
    func run(parts n: Int) {
        if threads == 1 || n == 1 {
            work.runPart(0, of: 1)
            return
        }
        pthread_mutex_lock(&mutex)
        parts = n
        pending = threads - 1
        generation += 1
        pthread_cond_broadcast(&wake)
        pthread_mutex_unlock(&mutex)
        work.runPart(0, of: n)
        pthread_mutex_lock(&mutex)
        while pending > 0 { pthread_cond_wait(&done, &mutex) }
        pthread_mutex_unlock(&mutex)
    }
}

// A Session runs one model at a fixed (batch, height, width). Everything is planned at creation:
//   * each conv's `ConvStrategy` (Winograd, pointwise, im2col) and its chunk, so the scratch stays
//     a few MB whatever the batch and the bias/ReLU epilogue runs on output still in cache;
//   * the `MemoryPlan`: the graph's buffers at offsets in ONE arena by lifetime (two buffers share
//     memory when no op needs both), then one scratch per part;
// and `run` only does arithmetic: it allocates nothing (EngineTests counts malloc calls to prove it).
//
// Threads: a session owns a `WorkerPool` of `threads` parts (the calling thread is part 0, the
// others are the pool's own pthreads, asleep between ops). Every op is split into that many
// independent parts; OpenBLAS is set single-threaded, so each part's sgemm runs on the part's
// thread. LSTV_ENGINE_BLAS_THREADS=1 instead runs each op whole and lets OpenBLAS thread inside
// sgemm (for comparison; on AVX-512 the GEMMs are CKernels' own on packed weights, single-threaded,
// so that mode then runs on one thread). A session is not thread-safe; make one per thread.

import CKernels
import COpenBLAS
import Foundation

public final class Session: ParallelWork {
    public let batch: Int
    public let height: Int
    public let width: Int
    public let threads: Int
    public let classes: Int
    /// Floats in one image of input (3*H*W) and output (classes*H*W).
    public var inputCountPerImage: Int { 3 * height * width }
    public var outputCountPerImage: Int { classes * height * width }

    /// Multiply-adds x2 of all convolutions for one image.
    public let flopsPerImage: Double

    /// Bytes of the arena (activations and scratch), allocated once at creation.
    public var arenaBytes: Int { plan.arenaFloats * MemoryLayout<Float>.size }

    /// The memory plan, one line per buffer (for tuning and docs).
    public var planDescription: String { plan.description(buffers: graph.buffers) }

    private let model: LocalizerModel          // keeps the weights alive
    private let graph: Graph
    private let layers: [ConvLayer]
    let plan: MemoryPlan
    private let arena: UnsafeMutablePointer<Float>
    /// Per op: how it runs, for convs; nil for the other ops.
    let strategies: [ConvStrategy?]
    private let greyA: [Float], greyB: [Float]  // x = pixel * a[c] + b[c]
    private var pool: WorkerPool! = nil
    /// Parts each op is split into (the session's threads), and OpenBLAS's own threads (1 unless
    /// LSTV_ENGINE_BLAS_THREADS=1).
    private let parts: Int
    private let blasThreads: Int
    /// LSTV_ENGINE_PROFILE=1: seconds per op, accumulated over runs (preallocated: runs still allocate nothing).
    private let profiling = getenv("LSTV_ENGINE_PROFILE") != nil
    private var opSeconds: [Double] = []

    /// What the pool's parts run now: an op split by its strategy, or — for a non-pointwise conv
    /// with too few output columns to split (deep layers, small batch) — one block of input
    /// channels in two steps: its im2col split by input channel into part 0's scratch, then its
    /// GEMM split by output channel, accumulating over the blocks.
    /// With channel-panel weights such a conv is split by K instead (`splitK`): each part gathers
    /// and multiplies its own input channels in L2-sized blocks on its own scratch, summing into its
    /// own transposed result; `reduceK` then adds the parts' sums and stores them, each part its own
    /// output channels. Sharing one gathered block between the cores (the block steps) left decoder
    /// block 0's conv at 2 threads 1.6x onnxruntime's time, the blocks travelling between the cores.
    private enum Step {
        case op(Int)
        case gatherBlock(op: Int, channels: Range<Int>)
        case multiplyBlock(op: Int, channels: Range<Int>)
        case splitK(op: Int)
        case reduceK(op: Int)
        /// The softmax into the caller's output, split by pixels.
        case softmax(UnsafeMutablePointer<Float>)
    }
    private var step = Step.op(0)
    /// Images in the run in progress.
    private var runImages = 1
    /// Floats at the start of each part's scratch for gathered input (im2col, Winograd tiles); the
    /// rest is the transposed result of channel-panel GEMMs.
    private let gatherFloats: Int
    /// Below this many output columns per part, convs split their output channels instead.
    static let minColumnsPerPart = 128

    init(model: LocalizerModel, batch: Int, threads: Int, height: Int, width: Int) throws {
        guard batch >= 1 else { throw EngineError.badInput("batch \(batch) < 1") }
        guard threads >= 1 else { throw EngineError.badInput("threads \(threads) < 1") }
        guard height > 0, width > 0, height % 32 == 0, width % 32 == 0 else {
            throw EngineError.badInput("input \(height)x\(width): both must be positive multiples of 32 (5 stride-2 stages)")
        }
        self.model = model
        self.batch = batch
        self.threads = threads
        self.height = height
        self.width = width
        classes = model.metadata.architecture.numClasses
        let g = Graph(model.metadata.architecture, height: height, width: width)
        graph = g
        layers = model.weights.layers
        precondition(layers.count == g.convs.count, "graph and weights disagree")

        // --- each conv's strategy and the scratch per part ---
        let budget = ConvStrategy.Budget.fromEnvironment()
        var strategies = [ConvStrategy?](repeating: nil, count: g.ops.count)
        // LSTV_ENGINE_BLAS_THREADS=1: leave the threading to OpenBLAS (for comparison).
        let useBlas = getenv("LSTV_ENGINE_BLAS_THREADS").map { String(cString: $0) == "1" } ?? false
        parts = useBlas ? 1 : threads
        blasThreads = useBlas ? threads : 1
        var need = ConvStrategy.Scratch(gather: 16)
        var flops = 0.0
        for (i, op) in g.ops.enumerated() {
            guard case let .conv(l, _, _, y, _, _) = op else { continue }
            let s = layers[l].spec
            flops += 2.0 * Double(s.cout * s.cin * s.k * s.k * y.h * y.w)
            let (strategy, scratch) = ConvStrategy.plan(layers[l], output: y, batch: batch, parts: parts, budget: budget)
            strategies[i] = strategy
            need.gather = max(need.gather, MemoryPlan.aligned(scratch.gather))
            need.transposed = max(need.transposed, scratch.transposed)
        }
        self.strategies = strategies
        flopsPerImage = flops

        // --- the arena ---
        // Each part's scratch: the gathered input first, the transposed result of channel-panel
        // GEMMs after it (split K: each part sums its own input channels there, and reduceK adds the
        // other parts' sums into part 0's).
        gatherFloats = need.gather
        plan = MemoryPlan(graph: g, batch: batch, scratchFloatsPerPart: need.gather + need.transposed, parts: parts)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: plan.arenaFloats * 4, alignment: 64)
        arena = raw.bindMemory(to: Float.self, capacity: plan.arenaFloats)
        arena.initialize(repeating: 0, count: plan.arenaFloats)

        let n = model.metadata.normalization
        greyA = (0..<3).map { 1 / (n.scale * n.std[$0]) }
        greyB = (0..<3).map { -n.mean[$0] / n.std[$0] }
        opSeconds = [Double](repeating: 0, count: g.ops.count)
        pool = WorkerPool(threads: parts, work: self)
    }

    /// Per-op time profile (LSTV_ENGINE_PROFILE=1), heaviest first.
    public var profileDescription: String {
        var lines: [(Double, String)] = []
        for (i, op) in graph.ops.enumerated() {
            var what = "\(op)"
            if case let .conv(l, x, x2, y, _, _) = op {
                let s = layers[l].spec
                let gflop = 2.0 * Double(s.cout * s.cin * s.k * s.k * y.h * y.w * batch) / 1e9
                what = "\(s.weight) \(s.cin)->\(s.cout) k\(s.k) s\(s.stride) \(x.h)x\(x.w)\(x2 == nil ? "" : "+skip") wino=\(layers[l].winograd) \(String(format: "%.1f GFLOP/s", gflop / max(opSeconds[i], 1e-9)))"
            }
            lines.append((opSeconds[i], what))
        }
        let total = opSeconds.reduce(0, +)
        return lines.sorted { $0.0 > $1.0 }.map { String(format: "%5.1f%% ", 100 * $0.0 / max(total, 1e-9)) + $0.1 }.joined(separator: "\n")
    }

    deinit {
        pool.shutdown()
        arena.deallocate()
    }

    @inline(__always)
    private func ptr(_ r: Ref, _ n: Int) -> UnsafeMutablePointer<Float> {
        arena + plan.offsets[r.buf] + r.ch0 * n * r.h * r.w
    }

    @inline(__always)
    private func scratch(_ part: Int) -> UnsafeMutablePointer<Float> { arena + plan.scratch(part: part) }
    private func transposedScratch(_ part: Int) -> UnsafeMutablePointer<Float> { scratch(part) + gatherFloats }

    /// Runs n <= batch images: `input` is n x 3 x H x W, already normalised (NCHW float32);
    /// `output` receives n x classes x H x W softmax probabilities (NCHW). Allocates nothing.
    public func run(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) throws {
        let n = try images(input.count, per: inputCountPerImage, output: output.count)
        let plane = height * width
        let dst = ptr(graph.input, n)
        for img in 0..<n {
            for c in 0..<3 {
                (dst + c * n * plane + img * plane).update(from: input.baseAddress! + (img * 3 + c) * plane, count: plane)
            }
        }
        forward(n, output.baseAddress!)
    }

    /// Runs n <= batch grey slices: `grey` is n x H x W pixel values on the model's scale (0...255 for
    /// 8-bit); each is normalised per `normalization` and repeated to the 3 input channels here.
    public func run(grey: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) throws {
        let plane = height * width
        let n = try images(grey.count, per: plane, output: output.count)
        let dst = ptr(graph.input, n)
        for img in 0..<n {
            let src = grey.baseAddress! + img * plane
            for c in 0..<3 {
                let d = dst + c * n * plane + img * plane, a = greyA[c], b = greyB[c]
                for j in 0..<plane { d[j] = src[j] * a + b }
            }
        }
        forward(n, output.baseAddress!)
    }

    /// Convenience: normalised NCHW input in, NCHW probabilities out (allocates the result).
    public func run(input: [Float]) throws -> [Float] {
        var out = [Float](repeating: 0, count: input.count / inputCountPerImage * outputCountPerImage)
        try input.withUnsafeBufferPointer { i in try out.withUnsafeMutableBufferPointer { try run(input: i, output: $0) } }
        return out
    }

    /// Convenience: any number of normalised NCHW images, run at most `batch` at a time, NCHW
    /// probabilities out (allocates the result). The arena is planned for `batch` images, so more
    /// images cost more passes, never more memory.
    public func run(passes input: [Float]) throws -> [Float] {
        guard !input.isEmpty, input.count % inputCountPerImage == 0 else {
            throw EngineError.badInput("\(input.count) input floats is not a whole number of \(inputCountPerImage)-float images")
        }
        let images = input.count / inputCountPerImage
        var out = [Float](repeating: 0, count: images * outputCountPerImage)
        try input.withUnsafeBufferPointer { all in
            try out.withUnsafeMutableBufferPointer { result in
                for first in stride(from: 0, to: images, by: batch) {
                    let n = min(batch, images - first)
                    try run(input: UnsafeBufferPointer(rebasing: all[(first * inputCountPerImage)..<((first + n) * inputCountPerImage)]),
                            output: UnsafeMutableBufferPointer(rebasing: result[(first * outputCountPerImage)..<((first + n) * outputCountPerImage)]))
                }
            }
        }
        return out
    }

    /// Convenience: grey N x H x W (0...255) in, NCHW probabilities out (allocates the result).
    public func run(grey: [Float]) throws -> [Float] {
        var out = [Float](repeating: 0, count: grey.count / (height * width) * outputCountPerImage)
        try grey.withUnsafeBufferPointer { i in try out.withUnsafeMutableBufferPointer { try run(grey: i, output: $0) } }
        return out
    }

    private func images(_ count: Int, per: Int, output: Int) throws -> Int {
        guard count > 0, count % per == 0 else {
            throw EngineError.badInput("\(count) input floats is not a whole number of \(per)-float images")
        }
        let n = count / per
        guard n <= batch else { throw EngineError.badInput("\(n) images for a session of batch \(batch)") }
        guard output == n * outputCountPerImage else {
            throw EngineError.badInput("output holds \(output) floats, \(n) images need \(n * outputCountPerImage)")
        }
        return n
    }

    private func forward(_ n: Int, _ out: UnsafeMutablePointer<Float>) {
        openblas_set_num_threads(Int32(blasThreads))
        runImages = n
        for i in 0..<graph.ops.count {
            let t0 = profiling ? Session.clock() : 0
            defer { if profiling { opSeconds[i] += Session.clock() - t0 } }
            if case .im2col = strategies[i], case let .conv(l, _, _, y, _, _) = graph.ops[i], parts > 1,
               n * y.h * y.w < Session.minColumnsPerPart * parts {
                if layers[l].layout == .channelPanels {
                    step = .splitK(op: i); pool.run(parts: parts)
                    step = .reduceK(op: i); pool.run(parts: parts)
                    continue
                }
                // Few output columns: all of them at once, K cut into channel blocks that fit the scratch.
                let s = layers[l].spec, cols = n * y.h * y.w
                // (Blocks as large as the scratch allows: each costs two pool barriers, and the parts
                // share part 0's scratch, so the L2-sized deep-K blocks would not stay in one core's L2.)
                let perBlock = max(1, min(s.cin, gatherFloats / (s.k * s.k * cols)))
                for c0 in stride(from: 0, to: s.cin, by: perBlock) {
                    let block = c0..<min(s.cin, c0 + perBlock)
                    step = .gatherBlock(op: i, channels: block); pool.run(parts: parts)
                    step = .multiplyBlock(op: i, channels: block); pool.run(parts: parts)
                }
            } else {
                step = .op(i)
                pool.run(parts: parts)
            }
        }
        step = .softmax(out)
        pool.run(parts: parts)
    }

    static func clock() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    @inline(__always)
    private func split(_ total: Int, _ part: Int, _ parts: Int, align: Int = 1) -> Range<Int> {
        func at(_ p: Int) -> Int { p == parts ? total : min(total, (total * p / parts + align - 1) / align * align) }
        return at(part)..<at(part + 1)
    }

    func runPart(_ part: Int, of parts: Int) {
        let n = runImages
        let i: Int
        switch step {
        case .op(let op): i = op
        case .softmax(let out):
            let plane = height * width
            softmaxToNCHW(ptr(graph.logits, n), classes: classes, n: n, plane: plane, out, pixels: split(plane, part, parts, align: 16))
            return
        case let .splitK(op), let .reduceK(op):
            guard case let .conv(l, x, x2, y, relu, acc) = graph.ops[op] else { preconditionFailure("a split-K step of a non-conv op") }
            if case .splitK = step {
                splitKPart(layers[l], x, x2, y, n: n, part: part, parts: parts)
            } else {
                reduceKPart(layers[l], y, n: n, relu: relu, residual: acc, part: part, parts: parts)
            }
            return
        case let .gatherBlock(op, channels), let .multiplyBlock(op, channels):
            guard case let .conv(l, x, x2, y, relu, acc) = graph.ops[op] else { preconditionFailure("a block step of a non-conv op") }
            if case .gatherBlock = step {
                gatherBlock(layers[l], x, x2, y, n: n, channels: channels, part: part, parts: parts)
            } else {
                multiplyBlock(layers[l], y, n: n, relu: relu, accumulate: acc, channels: channels, part: part, parts: parts)
            }
            return
        }
        switch graph.ops[i] {
        case let .conv(l, x, x2, y, relu, acc):
            conv(layers[l], x, x2, y, n: n, relu: relu, accumulate: acc, strategy: strategies[i]!, part: part, parts: parts)
        case let .avgPool(x, y, _):
            // Floor and ceil modes differ only in the output size, fixed by the graph.
            let r = split(x.c * n, part, parts)
            avgPool2x2(ptr(x, n) + r.lowerBound * x.h * x.w, planes: r.count, h: x.h, w: x.w,
                       ptr(y, n) + r.lowerBound * y.h * y.w, oh: y.h, ow: y.w)
        case let .maxPool(x, y):
            let r = split(x.c * n, part, parts)
            maxPool3x3s2(ptr(x, n) + r.lowerBound * x.h * x.w, planes: r.count, h: x.h, w: x.w,
                         ptr(y, n) + r.lowerBound * y.h * y.w, oh: y.h, ow: y.w)
        case let .upsample(x, y):
            let r = split(x.c * n, part, parts)
            upsample2x(ptr(x, n) + r.lowerBound * x.h * x.w, planes: r.count, h: x.h, w: x.w,
                       ptr(y, n) + r.lowerBound * y.h * y.w)
        case let .copy(x, y):
            let plane = x.h * x.w, r = split(x.c * n, part, parts)
            (ptr(y, n) + r.lowerBound * plane).update(from: ptr(x, n) + r.lowerBound * plane, count: r.count * plane)
        }
    }

    private func conv(_ L: ConvLayer, _ x: Ref, _ x2: Ref?, _ y: Ref, n: Int, relu: Bool, accumulate: Bool,
                      strategy: ConvStrategy, part: Int, parts: Int) {
        let s = L.spec
        let xin = ptr(x, n), yout = ptr(y, n)
        let xin2: UnsafeMutablePointer<Float>? = x2.map { ptr($0, n) }
        let ldx = n * x.h * x.w, ldy = n * y.h * y.w
        let scratch = scratch(part)
        switch strategy {
        case .winograd(let tilesPerChunk):
            let tiles = split(winogradTiles(h: y.h, w: y.w, n: n), part, parts)
            if tiles.isEmpty { return }
            winogradConv(x: xin, c1: x.c, x2: xin2, cin: s.cin, h: x.h, w: x.w, n: n, u: L.weight, bias: L.bias,
                         cout: s.cout, y: yout, relu: relu, accumulate: accumulate, packed: L.packed, chunkTiles: tilesPerChunk,
                         scratch: scratch, tiles: tiles)
        case .pointwise(let columnsPerChunk):
            precondition(x2 == nil, "pointwise conv with a second input")
            // Pointwise: the input rows are the GEMM's B directly.
            if parts > 1 && ldy < Session.minColumnsPerPart * parts {
                let m = split(s.cout, part, parts, align: L.layout.panelRows)
                if m.isEmpty { return }
                convGemm(L, rows: m, k0: 0, k: s.cin, n: ldy, b: xin, ldb: ldx, c: yout + m.lowerBound * ldy, ldc: ldy,
                         first: true, residual: accumulate, epilogue: true, relu: relu, transposed: transposedScratch(part))
                return
            }
            let range = split(ldy, part, parts, align: 16)
            var c0 = range.lowerBound
            while c0 < range.upperBound {
                let cols = min(columnsPerChunk, range.upperBound - c0)
                convGemm(L, rows: 0..<s.cout, k0: 0, k: s.cin, n: cols, b: xin + c0, ldb: ldx, c: yout + c0, ldc: ldy,
                         first: true, residual: accumulate, epilogue: true, relu: relu, transposed: transposedScratch(part))
                c0 += cols
            }
        case .im2col(let rowsPerChunk):
            let kk = s.k * s.k
            // This part's output rows, in chunks on its own scratch. A chunk has the whole K when
            // that still leaves >= 512 columns; otherwise (huge K: the decoder's first conv has
            // K = 27648) it keeps 512+ columns and cuts K into channel blocks, accumulating in C —
            // so the weights are streamed a few times, not once per thin column chunk.
            let rows = split(n * y.h, part, parts)
            let rowsPer = ConvStrategy.im2colChunkRows(rowsPerChunk, rows: rows.count, outputWidth: y.w)
            var r0 = rows.lowerBound
            while r0 < rows.upperBound {
                let r1 = min(rows.upperBound, r0 + rowsPer)
                let cols = (r1 - r0) * y.w
                let perBlock = ConvStrategy.channelsPerBlock(s, columns: cols, scratchFloats: gatherFloats)
                let c = yout + r0 * y.w
                var c0 = 0
                while c0 < s.cin {
                    let c1 = min(s.cin, c0 + perBlock)
                    im2col(xin, c1: x.c, xin2, cin: s.cin, h: x.h, w: x.w, n: n, k: s.k, stride: s.stride, pad: s.pad,
                           oh: y.h, ow: y.w, r0: r0, r1: r1, col: scratch, channels: c0..<c1, colBase: c0)
                    convGemm(L, rows: 0..<s.cout, k0: c0 * kk, k: (c1 - c0) * kk, n: cols, b: scratch, ldb: cols,
                             c: c, ldc: ldy, first: c0 == 0, residual: accumulate, epilogue: c1 == s.cin, relu: relu,
                             transposed: transposedScratch(part))
                    c0 = c1
                }
                r0 = r1
            }
        }
    }

    /// A split-K step's first half: this part's input channels, gathered in L2-sized blocks on its
    /// own scratch and multiplied into its own transposed sums (all output channels, all columns).
    private func splitKPart(_ L: ConvLayer, _ x: Ref, _ x2: Ref?, _ y: Ref, n: Int, part: Int, parts: Int) {
        let s = L.spec, kk = s.k * s.k, cols = n * y.h * y.w
        let ct = transposedScratch(part)
        let channels = split(s.cin, part, parts)
        if channels.isEmpty {
            ct.update(repeating: 0, count: cols * s.cout)  // reduceK adds every part's sums
            return
        }
        let perBlock = ConvStrategy.channelsPerBlock(s, columns: cols, scratchFloats: gatherFloats)
        var c0 = channels.lowerBound
        while c0 < channels.upperBound {
            let c1 = min(channels.upperBound, c0 + perBlock)
            im2col(ptr(x, n), c1: x.c, x2.map { ptr($0, n) }, cin: s.cin, h: x.h, w: x.w, n: n, k: s.k, stride: s.stride, pad: s.pad,
                   oh: y.h, ow: y.w, r0: 0, r1: n * y.h, col: scratch(part), channels: c0..<c1, colBase: c0)
            // Not the epilogue: reduceK adds the parts' sums and stores them.
            convGemm(L, rows: 0..<s.cout, k0: c0 * kk, k: (c1 - c0) * kk, n: cols, b: scratch(part), ldb: cols,
                     c: ptr(y, n), ldc: cols, first: c0 == channels.lowerBound, residual: false, epilogue: false,
                     relu: false, transposed: ct)
            c0 = c1
        }
    }

    /// A split-K step's second half: the parts' transposed sums added for this part's output
    /// channels (into part 0's), then stored with the epilogue.
    private func reduceKPart(_ L: ConvLayer, _ y: Ref, n: Int, relu: Bool, residual: Bool, part: Int, parts: Int) {
        let s = L.spec, cols = n * y.h * y.w, ldy = cols
        let m = split(s.cout, part, parts, align: 16)
        if m.isEmpty { return }
        let sum = transposedScratch(0)
        for other in 1..<parts {
            let add = transposedScratch(other)
            for j in 0..<cols {
                let row = j * s.cout
                for c in m { sum[row + c] += add[row + c] }
            }
        }
        lstv_gemm_wide_store(sum + m.lowerBound, s.cout, Int32(m.count), Int32(cols), ptr(y, n) + m.lowerBound * ldy, ldy,
                             residual ? 1 : 0, L.bias + m.lowerBound, relu ? 1 : 0)
    }

    /// A block step's first half: im2col of input channels `block` (this part's share of them) for
    /// all output rows, into part 0's scratch.
    private func gatherBlock(_ L: ConvLayer, _ x: Ref, _ x2: Ref?, _ y: Ref, n: Int, channels block: Range<Int>,
                             part: Int, parts: Int) {
        let s = L.spec
        let ch = split(block.count, part, parts)
        if ch.isEmpty { return }
        im2col(ptr(x, n), c1: x.c, x2.map { ptr($0, n) }, cin: s.cin, h: x.h, w: x.w, n: n, k: s.k, stride: s.stride, pad: s.pad,
               oh: y.h, ow: y.w, r0: 0, r1: n * y.h, col: scratch(0),
               channels: (block.lowerBound + ch.lowerBound)..<(block.lowerBound + ch.upperBound), colBase: block.lowerBound)
    }

    /// A block step's second half: the GEMM over that channel block for this part's output
    /// channels, accumulating over blocks; the epilogue after the last block.
    private func multiplyBlock(_ L: ConvLayer, _ y: Ref, n: Int, relu: Bool, accumulate: Bool, channels block: Range<Int>,
                               part: Int, parts: Int) {
        let s = L.spec, kk = s.k * s.k
        let m = split(s.cout, part, parts, align: L.layout.panelRows)
        if m.isEmpty { return }
        let ldy = n * y.h * y.w
        convGemm(L, rows: m, k0: block.lowerBound * kk, k: block.count * kk, n: ldy, b: scratch(0), ldb: ldy,
                 c: ptr(y, n) + m.lowerBound * ldy, ldc: ldy, first: block.lowerBound == 0, residual: accumulate,
                 epilogue: block.upperBound == s.cin, relu: relu, transposed: transposedScratch(part))
    }
}

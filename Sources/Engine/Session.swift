// A Session runs one model at a fixed (batch, height, width). Everything is planned at creation:
//   * the graph's virtual buffers get offsets in ONE arena by lifetime (greedy, largest first:
//     two buffers share memory when no op needs both), so activations take the peak live set,
//     not the sum;
//   * the im2col scratch is sized for the largest chunk (convs are cut into chunks of output rows
//     so the scratch stays a few MB whatever the batch, and the bias/ReLU epilogue runs on output
//     that is still in cache);
// and `run` only does arithmetic: it allocates nothing (the arena address and size are exposed
// for the tests to check that). A session is not thread-safe; make one per thread.

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

    /// Test hook: the arena, planned once. Its address and size never change across runs.
    public var arenaAddress: UInt { UInt(bitPattern: arena) }
    public var arenaBytes: Int { arenaCount * MemoryLayout<Float>.size }

    // Tuning: im2col chunk (floats of scratch) and 1x1 output chunk (floats of output).
    // LSTV_ENGINE_CHUNKS="im2col,pointwise" overrides them (benchmark tuning only).
    static var im2colChunkFloats = 1 << 20
    static var pointwiseChunkFloats = 1 << 19
    static var winogradChunkFloats = 1 << 20
    static func chunkSizes() -> (Int, Int, Int) {
        if let e = getenv("LSTV_ENGINE_CHUNKS") {
            let p = String(cString: e).split(separator: ",").compactMap { Int($0) }
            if p.count == 3 { return (p[0], p[1], p[2]) }
        }
        return (im2colChunkFloats, pointwiseChunkFloats, winogradChunkFloats)
    }

    /// The memory plan, one line per buffer (for tuning and docs).
    public let planDescription: String

    private let model: LocalizerModel          // keeps the weights alive
    private let graph: Graph
    private let layers: [ConvLayer]
    private let arena: UnsafeMutablePointer<Float>
    private let arenaCount: Int
    private let offsets: [Int]
    private let col: UnsafeMutablePointer<Float>
    private let chunk: [Int]                    // per op: rows (im2col) or columns (1x1) per chunk
    private let greyA: [Float], greyB: [Float]  // x = pixel * a[c] + b[c]
    private let scratchFloats: Int              // per part; part p's scratch is col + p * scratchFloats
    private var pool: WorkerPool! = nil
    /// Parts each op is split into (the session's threads), and whether OpenBLAS threads instead.
    private let parts: Int
    private let blasThreads: Int
    /// LSTV_ENGINE_PROFILE=1: seconds per op, accumulated over runs (preallocated: runs still allocate nothing).
    private let profiling = getenv("LSTV_ENGINE_PROFILE") != nil
    private var opSeconds: [Double] = []
    // The op being run, read by runPart on every thread.
    private var curOp = 0, curN = 1, phase = 0, curR0 = 0, curR1 = 0, curC0 = 0, curC1 = 0
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

        // --- chunking and the im2col scratch ---
        let (im2colChunk, pointwiseChunk, winogradChunk) = Session.chunkSizes()
        var chunk = [Int](repeating: 0, count: g.ops.count)
        var colFloats = 16
        var flops = 0.0
        for (i, op) in g.ops.enumerated() {
            guard case let .conv(l, x, _, y, _, _) = op else { continue }
            let s = layers[l].spec
            flops += 2.0 * Double(s.cout * s.cin * s.k * s.k * y.h * y.w)
            _ = x
            if layers[l].winograd {
                let tiles = batch * ((y.h + 1) / 2) * ((y.w + 1) / 2)
                chunk[i] = max(1, min(tiles, winogradChunk / winogradScratch(cin: s.cin, cout: s.cout, tiles: 1)))
                colFloats = max(colFloats, winogradScratch(cin: s.cin, cout: s.cout, tiles: chunk[i]))
            } else if s.k == 1 && s.stride == 1 {
                chunk[i] = max(16, pointwiseChunk / s.cout)
            } else {
                let kdim = s.cin * s.k * s.k
                let rows = max(1, min(batch * y.h, im2colChunk / (kdim * y.w)))
                chunk[i] = rows
                colFloats = max(colFloats, kdim * rows * y.w)
            }
        }
        self.chunk = chunk
        flopsPerImage = flops

        // --- lifetimes and offsets ---
        let nb = g.buffers.count
        var first = [Int](repeating: Int.max, count: nb), last = [Int](repeating: -1, count: nb)
        func touch(_ r: Ref, _ i: Int) { first[r.buf] = min(first[r.buf], i); last[r.buf] = max(last[r.buf], i) }
        touch(g.input, -1)
        for (i, op) in g.ops.enumerated() {
            switch op {
            case let .conv(_, x, x2, y, _, _): touch(x, i); touch(y, i); if let x2 { touch(x2, i) }
            case let .avgPool(x, y, _), let .maxPool(x, y), let .upsample(x, y), let .copy(x, y): touch(x, i); touch(y, i)
            }
        }
        touch(g.logits, g.ops.count)
        let size = g.buffers.map { ($0.channels * $0.h * $0.w * batch + 15) & ~15 }  // 64-byte aligned pieces
        var offsets = [Int](repeating: 0, count: nb)
        var placed: [Int] = []
        var end = 0
        for b in (0..<nb).sorted(by: { (size[$0], -$0) > (size[$1], -$1) }) where last[b] >= first[b] {
            // Lowest gap among the placed buffers alive at the same time.
            let live = placed.filter { first[$0] <= last[b] && first[b] <= last[$0] }.sorted { offsets[$0] < offsets[$1] }
            var at = 0
            for o in live {
                if offsets[o] - at >= size[b] { break }
                at = max(at, offsets[o] + size[o])
            }
            offsets[b] = at
            end = max(end, at + size[b])
            placed.append(b)
        }
        self.offsets = offsets
        // LSTV_ENGINE_BLAS_THREADS=1: leave the threading to OpenBLAS (for comparison).
        let useBlas = getenv("LSTV_ENGINE_BLAS_THREADS").map { String(cString: $0) == "1" } ?? false
        parts = useBlas ? 1 : threads
        blasThreads = useBlas ? threads : 1
        scratchFloats = colFloats
        planDescription = (0..<nb).map { b in
            let B = g.buffers[b]
            return "buffer \(b): \(B.channels)x\(B.h)x\(B.w) ops \(first[b])...\(last[b]) at \(offsets[b] * 4 / 1024) KiB, \(size[b] * 4 / 1024) KiB"
        }.joined(separator: "\n") + "\nactivations \(end * 4 / 1024) KiB + scratch \(colFloats * 4 / 1024) KiB"
        arenaCount = end + colFloats * parts
        let raw = UnsafeMutableRawPointer.allocate(byteCount: arenaCount * 4, alignment: 64)
        arena = raw.bindMemory(to: Float.self, capacity: arenaCount)
        arena.initialize(repeating: 0, count: arenaCount)
        col = arena + end

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
        arena + offsets[r.buf] + r.ch0 * n * r.h * r.w
    }

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
        curN = n
        for i in 0..<graph.ops.count {
            curOp = i
            phase = 0
            let t0 = profiling ? Session.clock() : 0
            defer { if profiling { opSeconds[i] += Session.clock() - t0 } }
            if case let .conv(l, _, _, y, _, _) = graph.ops[i], !layers[l].winograd,
               !(layers[l].spec.k == 1 && layers[l].spec.stride == 1), parts > 1,
               n * y.h * y.w < Session.minColumnsPerPart * parts {
                // Few output columns (deep layers, small batch): all columns at once, K cut into
                // channel blocks that fit the scratch; per block, im2col split by input channels,
                // then the GEMM (accumulating over blocks) split by output channels.
                let s = layers[l].spec, kk = s.k * s.k, cols = n * y.h * y.w
                let perBlock = max(1, min(s.cin, scratchFloats / (kk * cols)))
                curR0 = 0
                curR1 = n * y.h
                var c0 = 0
                while c0 < s.cin {
                    curC0 = c0
                    curC1 = min(s.cin, c0 + perBlock)
                    phase = 1; pool.run(parts: parts)
                    phase = 2; pool.run(parts: parts)
                    c0 = curC1
                }
            } else {
                pool.run(parts: parts)
            }
        }
        softmaxToNCHW(ptr(graph.logits, n), classes: classes, n: n, plane: height * width, out)
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
        let n = curN
        switch graph.ops[curOp] {
        case let .conv(l, x, x2, y, relu, acc):
            conv(layers[l], x, x2, y, n: n, relu: relu, accumulate: acc, chunk: chunk[curOp], part: part, parts: parts)
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
                      chunk: Int, part: Int, parts: Int) {
        let s = L.spec
        let xin = ptr(x, n), yout = ptr(y, n)
        let xin2: UnsafeMutablePointer<Float>? = x2.map { ptr($0, n) }
        let ldx = n * x.h * x.w, ldy = n * y.h * y.w
        let beta: Float = accumulate ? 1 : 0
        let scratch = col + part * scratchFloats
        if L.winograd {
            let tiles = split(winogradTiles(h: y.h, w: y.w, n: n), part, parts)
            if tiles.isEmpty { return }
            winogradConv(x: xin, c1: x.c, x2: xin2, cin: s.cin, h: x.h, w: x.w, n: n, u: L.weight, bias: L.bias,
                         cout: s.cout, y: yout, relu: relu, accumulate: accumulate, chunkTiles: chunk,
                         scratch: scratch, tiles: tiles)
            return
        }
        if s.k == 1 && s.stride == 1 {
            precondition(x2 == nil, "pointwise conv with a second input")
            // Pointwise: the input rows are the GEMM's B directly.
            if parts > 1 && ldy < Session.minColumnsPerPart * parts {
                let m = split(s.cout, part, parts)
                if m.isEmpty { return }
                sgemm(m: m.count, n: ldy, k: s.cin, a: L.weight + m.lowerBound * s.cin, lda: s.cin, b: xin, ldb: ldx,
                      c: yout + m.lowerBound * ldy, ldc: ldy, beta: beta)
                biasActivation(yout + m.lowerBound * ldy, ldc: ldy, rows: m.count, cols: ldy,
                               bias: L.bias + m.lowerBound, relu: relu)
                return
            }
            let range = split(ldy, part, parts, align: 16)
            var c0 = range.lowerBound
            while c0 < range.upperBound {
                let cols = min(chunk, range.upperBound - c0)
                sgemm(m: s.cout, n: cols, k: s.cin, a: L.weight, lda: s.cin, b: xin + c0, ldb: ldx,
                      c: yout + c0, ldc: ldy, beta: beta)
                biasActivation(yout + c0, ldc: ldy, rows: s.cout, cols: cols, bias: L.bias, relu: relu)
                c0 += cols
            }
            return
        }
        let kdim = L.kdim, kk = s.k * s.k
        switch phase {
        case 1:  // im2col of channels [curC0, curC1) (this part's share), all rows, into part 0's scratch
            let ch = split(curC1 - curC0, part, parts)
            if ch.isEmpty { return }
            im2col(xin, c1: x.c, xin2, cin: s.cin, h: x.h, w: x.w, n: n, k: s.k, stride: s.stride, pad: s.pad,
                   oh: y.h, ow: y.w, r0: curR0, r1: curR1, col: col,
                   channels: (curC0 + ch.lowerBound)..<(curC0 + ch.upperBound), colBase: curC0)
        case 2:  // GEMM over that channel block for this part's output channels
            let m = split(s.cout, part, parts)
            if m.isEmpty { return }
            let cols = (curR1 - curR0) * y.w
            let c = yout + curR0 * y.w + m.lowerBound * ldy
            sgemm(m: m.count, n: cols, k: (curC1 - curC0) * kk, a: L.weight + m.lowerBound * kdim + curC0 * kk, lda: kdim,
                  b: col, ldb: cols, c: c, ldc: ldy, beta: curC0 == 0 ? beta : 1)
            if curC1 == s.cin {
                biasActivation(c, ldc: ldy, rows: m.count, cols: cols, bias: L.bias + m.lowerBound, relu: relu)
            }
        default:
            // This part's output rows, in chunks on its own scratch. A chunk has the whole K when
            // that still leaves >= 512 columns; otherwise (huge K: the decoder's first conv has
            // K = 27648) it keeps 512+ columns and cuts K into channel blocks, accumulating in C —
            // so the weights are streamed a few times, not once per thin column chunk.
            let rows = split(n * y.h, part, parts)
            let minRows = (512 + y.w - 1) / y.w
            let rowsPer = max(1, min(max(rows.count, 1), max(chunk, minRows)))
            var r0 = rows.lowerBound
            while r0 < rows.upperBound {
                let r1 = min(rows.upperBound, r0 + rowsPer)
                let cols = (r1 - r0) * y.w
                let perBlock = max(1, min(s.cin, scratchFloats / (kk * cols)))
                let c = yout + r0 * y.w
                var c0 = 0
                while c0 < s.cin {
                    let c1 = min(s.cin, c0 + perBlock)
                    im2col(xin, c1: x.c, xin2, cin: s.cin, h: x.h, w: x.w, n: n, k: s.k, stride: s.stride, pad: s.pad,
                           oh: y.h, ow: y.w, r0: r0, r1: r1, col: scratch, channels: c0..<c1, colBase: c0)
                    sgemm(m: s.cout, n: cols, k: (c1 - c0) * kk, a: L.weight + c0 * kk, lda: kdim, b: scratch, ldb: cols,
                          c: c, ldc: ldy, beta: c0 == 0 ? beta : 1)
                    c0 = c1
                }
                biasActivation(c, ldc: ldy, rows: s.cout, cols: cols, bias: L.bias, relu: relu)
                r0 = r1
            }
        }
    }
}

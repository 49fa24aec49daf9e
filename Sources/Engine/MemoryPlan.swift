// Where every activation lives: offsets in one arena, decided once per session from the graph.
//
// Each virtual buffer lives from the first op that touches it to the last (the input from before
// op 0, the logits until after the last op). Buffers are placed largest first, each at the lowest
// offset that overlaps no placed buffer alive at the same time, so the arena holds the peak live
// set rather than the sum. Sizes are rounded up to 16 floats (64 bytes): every buffer starts on a
// cache line, as the kernels assume. The scratch each part of an op needs (im2col columns,
// Winograd tiles) follows the activations: part p's scratch is `scratch(part: p)`.

struct MemoryPlan {
    /// A buffer's lifetime in op indices, inclusive; `first > last` for a buffer no op touches.
    struct Lifetime: Equatable {
        var first: Int
        var last: Int
        func overlaps(_ o: Lifetime) -> Bool { first <= o.last && o.first <= last }
    }

    /// Floats, 16-aligned, per buffer.
    let sizes: [Int]
    let lifetimes: [Lifetime]
    /// Float offset of each buffer in the arena.
    let offsets: [Int]
    /// Floats of activations: the end of the highest placed buffer.
    let activationFloats: Int
    /// Floats of scratch per part.
    let scratchFloatsPerPart: Int
    let parts: Int

    /// The arena: activations, then one scratch per part.
    var arenaFloats: Int { activationFloats + scratchFloatsPerPart * parts }
    func scratch(part: Int) -> Int { activationFloats + part * scratchFloatsPerPart }

    static func aligned(_ floats: Int) -> Int { (floats + 15) & ~15 }

    /// The lifetimes of a graph's buffers.
    static func lifetimes(of g: Graph) -> [Lifetime] {
        var life = [Lifetime](repeating: Lifetime(first: .max, last: -1), count: g.buffers.count)
        func touch(_ r: Ref, _ i: Int) { life[r.buf].first = min(life[r.buf].first, i); life[r.buf].last = max(life[r.buf].last, i) }
        touch(g.input, -1)
        for (i, op) in g.ops.enumerated() {
            switch op {
            case let .conv(_, x, x2, y, _, _): touch(x, i); touch(y, i); if let x2 { touch(x2, i) }
            case let .avgPool(x, y, _), let .maxPool(x, y), let .upsample(x, y), let .copy(x, y): touch(x, i); touch(y, i)
            }
        }
        touch(g.logits, g.ops.count)
        return life
    }

    /// Plans a graph's buffers for `batch` images.
    init(graph g: Graph, batch: Int, scratchFloatsPerPart: Int, parts: Int) {
        self.init(sizes: g.buffers.map { $0.channels * $0.h * $0.w * batch }, lifetimes: Self.lifetimes(of: g),
                  scratchFloatsPerPart: scratchFloatsPerPart, parts: parts)
    }

    /// Plans buffers of the given sizes (floats) and lifetimes.
    init(sizes raw: [Int], lifetimes: [Lifetime], scratchFloatsPerPart: Int, parts: Int) {
        precondition(raw.count == lifetimes.count)
        let sizes = raw.map(Self.aligned)
        var offsets = [Int](repeating: 0, count: sizes.count)
        var placed: [Int] = []
        var end = 0
        for b in sizes.indices.sorted(by: { (sizes[$0], -$0) > (sizes[$1], -$1) }) where lifetimes[b].last >= lifetimes[b].first {
            // The lowest gap among the placed buffers alive at the same time.
            let live = placed.filter { lifetimes[$0].overlaps(lifetimes[b]) }.sorted { offsets[$0] < offsets[$1] }
            var at = 0
            for o in live {
                if offsets[o] - at >= sizes[b] { break }
                at = max(at, offsets[o] + sizes[o])
            }
            offsets[b] = at
            end = max(end, at + sizes[b])
            placed.append(b)
        }
        self.sizes = sizes
        self.lifetimes = lifetimes
        self.offsets = offsets
        activationFloats = end
        self.scratchFloatsPerPart = scratchFloatsPerPart
        self.parts = parts
    }

    /// One line per buffer, then the totals (for tuning and docs).
    func description(buffers: [BufferSpec]) -> String {
        buffers.indices.map { b in
            let B = buffers[b]
            return "buffer \(b): \(B.channels)x\(B.h)x\(B.w) ops \(lifetimes[b].first)...\(lifetimes[b].last) at \(offsets[b] * 4 / 1024) KiB, \(sizes[b] * 4 / 1024) KiB"
        }.joined(separator: "\n") + "\nactivations \(activationFloats * 4 / 1024) KiB + scratch \(scratchFloatsPerPart * 4 / 1024) KiB"
    }
}

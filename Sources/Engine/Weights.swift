// Loading: check every tensor of the file against the graph's convolutions (name, shape, dtype),
// then fold each BatchNorm into its conv (eps 1e-5):
//   scale = gamma / sqrt(var + eps);  W' = W * scale (per output channel);  b' = beta - mean * scale
// All folded weights and biases live in one 64-byte-aligned block owned by `WeightStore`.

import CKernels
import Foundation

let batchNormEps = 1e-5

/// A convolution ready to run: folded weight [cout x cin*k*k] (row-major, PyTorch's OIHW order) and bias.
/// With `winograd`, weight holds the F(2x2,3x3) transform U[16][cout][cin] instead (Winograd.swift);
/// `layout` says how the matrix (or each of U's 16) is stored for the kernel that runs it.
struct ConvLayer {
    var spec: ConvSpec
    var weight: UnsafeMutablePointer<Float>
    var bias: UnsafeMutablePointer<Float>
    var winograd: Bool
    var layout: WeightLayout
    var kdim: Int { spec.cin * spec.k * spec.k }
    /// Packed for one of CKernels' GEMMs (AVX-512), not row-major for OpenBLAS.
    var packed: Bool { layout != .rowMajor }
}

final class WeightStore {
    let base: UnsafeMutablePointer<Float>
    let count: Int
    private(set) var layers: [ConvLayer] = []

    /// Tensors the engine accepts and ignores (int64 scalars in the reference Net).
    static func isIgnored(_ name: String) -> Bool {
        name == "D" || name == "mean" || name == "std" || name.hasSuffix(".num_batches_tracked")
    }

    /// Every tensor the architecture needs, in graph order, with its shape.
    static func expectedTensors(_ convs: [ConvSpec]) -> [(String, [Int])] {
        var out: [(String, [Int])] = []
        for c in convs {
            out.append((c.weight, [c.cout, c.cin, c.k, c.k]))
            if let bn = c.bn {
                for s in ["weight", "bias", "running_mean", "running_var"] { out.append(("\(bn).\(s)", [c.cout])) }
            }
            if let b = c.bias { out.append((b, [c.cout])) }
        }
        return out
    }

    /// Checks the file against the graph; throws on the first mismatch, naming the tensor.
    static func check(_ file: SafeTensorsFile, _ convs: [ConvSpec]) throws {
        var known = Set<String>()
        for (name, shape) in expectedTensors(convs) {
            known.insert(name)
            guard let t = file.tensors[name] else { throw EngineError.missingTensor(name) }
            guard t.dtype == .f32 || t.dtype == .f16 else {
                throw EngineError.wrongDType(tensor: name, expected: "F32 or F16", found: t.dtype.rawValue)
            }
            guard t.shape == shape else { throw EngineError.wrongShape(tensor: name, expected: shape, found: t.shape) }
        }
        let bnPrefixes = Set(convs.compactMap(\.bn))
        for name in file.names where !known.contains(name) {
            let t = file.tensors[name]!
            if name.hasSuffix(".num_batches_tracked") {
                let prefix = String(name.dropLast(".num_batches_tracked".count))
                guard bnPrefixes.contains(prefix) else { throw EngineError.unexpectedTensor(name) }
                guard t.dtype == .i64, t.count == 1 else {
                    throw EngineError.wrongDType(tensor: name, expected: "I64 scalar", found: "\(t.dtype.rawValue) \(t.shape)")
                }
            } else if !isIgnored(name) {
                throw EngineError.unexpectedTensor(name)
            }
        }
    }

    /// Winograd is used for 3x3 stride-1 convs whose output plane (at the model's input size) is at
    /// least `winogradMinPlane` pixels (below 400 px only with a small U): there it saves the most
    /// work for the least extra weight memory (U is 16/9 the size of the kernels).
    init(file: SafeTensorsFile, convs: [ConvSpec], winogradMinPlane: Int) throws {
        try WeightStore.check(file, convs)
        // Measured on AVX-512 with the vectorised transforms and packed U (CKernels, docs/ENGINE.md):
        // every 3x3 stride-1 conv with a plane >= 400 px is faster as Winograd whatever its channels
        // (16->16 at 160x160: 2.2x); at 10x10 (25 tiles per image) only while U (16 x cin x cout)
        // stays small: 256->256 gains 30-50%, but decoder block 0's 3072->256 has a 50 MB U to stream
        // for 25 columns (17% slower, and +22 MB of weights). 5x5 (9 tiles) stays im2col.
        // winogradMinPlane == 1 forces it on every 3x3 stride-1 conv (tests).
        let wino = convs.map {
            $0.k == 3 && $0.stride == 1 && $0.pad == 1 && $0.plane >= winogradMinPlane
                && (winogradMinPlane == 1 || $0.plane >= 400 || $0.cin * $0.cout <= 256 * 256)
        }
        // Weights (Winograd's U: each of its 16 matrices) are packed for CKernels' GEMM where it runs
        // (AVX-512); elsewhere they stay row-major for OpenBLAS. Convs with a huge K (decoder block 0:
        // 3072 x 9 = 27648) are packed too since their im2col blocks stay in L2
        // (ConvStrategy.deepKBlockFloats) and the GEMM no longer ends a 100-column row on a lone
        // 16-column vector: OpenBLAS spent ~3% of the batch-1 run re-packing those weights.
        // Convs with few output columns and Cout a multiple of 64 take gemm_wide.c's channel panels
        // (WeightLayout.choose).
        let layouts = convs.indices.map { WeightLayout.choose(convs[$0], winograd: wino[$0], kernelSet: Engine.kernelSet) }
        // One block: each conv's weights then bias, every piece starting on a 64-byte boundary.
        func round16(_ n: Int) -> Int { (n + 15) & ~15 }
        var offsets: [(Int, Int)] = []
        var total = 0
        for c in convs {
            let w = total
            let layout = layouts[offsets.count]
            total += wino[offsets.count] ? round16(16 * layout.count(rows: c.cout, k: c.cin))
                                         : round16(max(layout.count(rows: c.cout, k: c.cin * c.k * c.k), c.cout * c.cin * c.k * c.k))
            offsets.append((w, total))
            total += round16(c.cout)
        }
        count = total
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(total, 16) * 4, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(total, 16))
        base.initialize(repeating: 0, count: max(total, 16))
        // Every stored property is set: if a read below throws, deinit frees `base`.
        do {
            for (i, c) in convs.enumerated() {
                let b = base + offsets[i].1
                // Winograd convs fold into a temporary, then transform into their slot.
                let kernel = wino[i] ? UnsafeMutablePointer<Float>.allocate(capacity: c.cout * c.cin * 9) : base + offsets[i].0
                defer { if wino[i] { kernel.deallocate() } }
                let w = kernel
                try file.readFloats(file.tensors[c.weight]!, into: w)
                let kdim = c.cin * c.k * c.k
                if let bn = c.bn {
                    let gamma = try file.floats("\(bn).weight"), beta = try file.floats("\(bn).bias")
                    let mean = try file.floats("\(bn).running_mean"), variance = try file.floats("\(bn).running_var")
                    for o in 0..<c.cout {
                        guard variance[o] >= 0 else {
                            throw EngineError.badFile("\(bn).running_var[\(o)] = \(variance[o]) is negative")
                        }
                        let scale = Double(gamma[o]) / (Double(variance[o]) + batchNormEps).squareRoot()
                        let row = w + o * kdim
                        for j in 0..<kdim { row[j] = Float(Double(row[j]) * scale) }
                        b[o] = Float(Double(beta[o]) - Double(mean[o]) * scale)
                    }
                } else if let bias = c.bias {
                    try file.readFloats(file.tensors[bias]!, into: b)
                }
                switch (wino[i], layouts[i]) {
                case (true, .rowMajor): winogradWeights(kernel, cout: c.cout, cin: c.cin, into: base + offsets[i].0)
                case (true, _): WeightStore.packWinograd(kernel, cout: c.cout, cin: c.cin, into: base + offsets[i].0)
                case (false, .rowMajor): break
                case (false, let layout): WeightStore.packInPlace(kernel, rows: c.cout, kdim: kdim, layout: layout)
                }
                layers.append(ConvLayer(spec: c, weight: base + offsets[i].0, bias: b, winograd: wino[i], layout: layouts[i]))
            }
        }
    }

    /// Packs a row-major matrix for one of CKernels' GEMMs in its own slot (sized for the packed
    /// count): no second copy of the weights at load, which would add to the peak RSS. A panel's
    /// rows occupy the same floats in both layouts: a column panel's 8 rows are staged (8 x K
    /// floats), a channel panel's 64 are permuted in place (staging them, 7 MB for decoder block 0's
    /// K = 27648, put `analyze`'s peak RSS over 2x the weights).
    static func packInPlace(_ w: UnsafeMutablePointer<Float>, rows: Int, kdim: Int, layout: WeightLayout) {
        switch layout {
        case .channelPanels:
            let panel = Int(LSTV_GEMM_WIDE_PANEL)
            precondition(rows % panel == 0, "channel panels need whole panels, not \(rows) rows")
            let words = (panel * kdim + 63) / 64
            let visited = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
            defer { visited.deallocate() }
            for r0 in stride(from: 0, to: rows, by: panel) {
                visited.initialize(repeating: 0, count: words)
                lstv_gemm_wide_pack_panel_in_place(w + r0 * kdim, Int32(kdim), visited)
            }
        case .columnPanels:
            let panel = Int(LSTV_GEMM_PANEL)
            let staging = UnsafeMutablePointer<Float>.allocate(capacity: panel * kdim)
            defer { staging.deallocate() }
            for r0 in stride(from: 0, to: rows, by: panel) {
                let r = min(panel, rows - r0), slot = w + r0 * kdim
                staging.update(from: slot, count: r * kdim)
                lstv_gemm_pack(staging, Int32(r), Int32(kdim), kdim, slot)
            }
        case .rowMajor:
            preconditionFailure("row-major weights are not packed")
        }
    }

    /// U (Winograd.swift) of folded 3x3 weights, each of its 16 matrices packed for CKernels' GEMM
    /// (`lstv_gemm_packed_count(cout, cin)` floats apart).
    static func packWinograd(_ kernel: UnsafePointer<Float>, cout: Int, cin: Int, into slot: UnsafeMutablePointer<Float>) {
        let u = UnsafeMutablePointer<Float>.allocate(capacity: 16 * cout * cin)
        defer { u.deallocate() }
        winogradWeights(kernel, cout: cout, cin: cin, into: u)
        let stride = lstv_gemm_packed_count(Int32(cout), Int32(cin))
        for xi in 0..<16 { lstv_gemm_pack(u + xi * cout * cin, Int32(cout), Int32(cin), cin, slot + xi * stride) }
    }

    deinit { base.deallocate() }
}

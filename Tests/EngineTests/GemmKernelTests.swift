// CKernels' GEMMs against a float64 reference on ragged shapes: every column-tile width of
// gemm_wide.c (1...14, 25, 100 columns), K across its 256-deep blocks, K blocks accumulated in the
// transposed result, and the store's residual, bias and ReLU. The golden network tests cover the
// kernels in place; these cover the shapes a network of one size never reaches.

import CKernels
import XCTest
@testable import Engine

final class GemmKernelTests: XCTestCase {
    /// A deterministic pseudo-random matrix in [-1, 1).
    func matrix(_ count: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<count).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2000) / 1000 - 1
        }
    }

    func testInPlacePackingMatchesThePackedCopy() {
        // The loader permutes a channel panel's 64 rows in place: (r, kk) must land at kk * 64 + r.
        for k in [1, 3, 64, 255, 4608] {
            let a = matrix(64 * k, seed: UInt64(k))
            var want = [Float](repeating: .nan, count: 64 * k)
            for r in 0..<64 { for kk in 0..<k { want[kk * 64 + r] = a[r * k + kk] } }
            var got = a
            var visited = [UInt64](repeating: 0, count: (64 * k + 63) / 64)
            lstv_gemm_wide_pack_panel_in_place(&got, Int32(k), &visited)
            XCTAssertEqual(got, want, "k \(k)")
        }
    }

    func testWideGemmMatchesFloat64() throws {
        guard Engine.kernelSet == .avx512 else {
            // Without AVX-512 the wide kernel never runs: no layer is packed for it.
            let model = try LocalizerModel(contentsOf: fixture("golden_bottleneck.safetensors"))
            XCTAssertTrue(model.weights.layers.allSatisfy { $0.layout == .rowMajor })
            return
        }
        let panel = Int(LSTV_GEMM_WIDE_PANEL)
        for (m, k, n) in [(64, 1, 1), (64, 7, 5), (128, 255, 7), (64, 256, 8), (192, 257, 9), (64, 600, 13),
                          (128, 513, 14), (64, 300, 25), (128, 90, 100), (64, 40, 6)] {
            let a = matrix(m * k, seed: UInt64(m * 1000 + k)), b = matrix(k * n, seed: UInt64(n * 7 + k))
            let residual = matrix(m * n, seed: 99), bias = matrix(m, seed: 5)
            var packed = [Float](repeating: .nan, count: lstv_gemm_wide_count(Int32(m), Int32(k)) + 16)
            // 64-byte aligned panels, as the weight store gives them.
            try packed.withUnsafeMutableBufferPointer { buf in
                let base = UnsafeMutableRawPointer(buf.baseAddress!)
                let offset = (64 - Int(bitPattern: base) % 64) % 64 / 4
                let p = buf.baseAddress! + offset
                p.update(from: a, count: m * k)
                var visited = [UInt64](repeating: 0, count: (64 * k + 63) / 64)
                for r0 in stride(from: 0, to: m, by: panel) {
                    for i in visited.indices { visited[i] = 0 }
                    lstv_gemm_wide_pack_panel_in_place(p + r0 * k, Int32(k), &visited)
                }
                var ct = [Float](repeating: .nan, count: n * m)
                var c = residual
                // Two K blocks when k > 1: the second accumulates in CT, as a conv's channel blocks do.
                let k1 = k > 1 ? k / 2 : k
                b.withUnsafeBufferPointer { bb in
                    lstv_gemm_wide(p, k * panel, Int32(m), Int32(n), Int32(k1), bb.baseAddress!, n, &ct, m, 0)
                    if k1 < k {
                        lstv_gemm_wide(p + k1 * panel, k * panel, Int32(m), Int32(n), Int32(k - k1), bb.baseAddress! + k1 * n, n,
                                       &ct, m, 1)
                    }
                }
                lstv_gemm_wide_store(ct, m, Int32(m), Int32(n), &c, n, 1, bias, 1)
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = 0.0
                        for kk in 0..<k { sum += Double(a[i * k + kk]) * Double(b[kk * n + j]) }
                        let want = max(sum + Double(residual[i * n + j]) + Double(bias[i]), 0)
                        worst = max(worst, abs(Double(c[i * n + j]) - want) / max(1, abs(want)))
                    }
                }
                XCTAssertLessThan(worst, 1e-5, "m \(m) k \(k) n \(n): worst relative error \(worst)")
                // Without residual, bias or ReLU the store is the plain transpose.
                var plain = [Float](repeating: .nan, count: m * n)
                lstv_gemm_wide_store(ct, m, Int32(m), Int32(n), &plain, n, 0, nil, 0)
                for i in 0..<m { for j in 0..<n { XCTAssertEqual(plain[i * n + j], ct[j * m + i]) } }
            }
        }
    }
}

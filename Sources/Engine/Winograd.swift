// Winograd F(2x2, 3x3) for 3x3 stride-1 pad-1 convolutions (Lavin & Gray, 2015).
//
// Each 2x2 output tile costs 16 multiplies per (cin, cout) pair instead of 36: the 3x3 kernels
// are transformed once at load (U = G g G^T, 4x4), each 4x4 input patch is transformed
// (V = B^T d B), the product is 16 independent GEMMs  M[xi] = U[xi] (Cout x Cin) * V[xi] (Cin x tiles),
// and each 4x4 M tile goes back to 2x2 outputs (Y = A^T M A). F(2,3)'s transforms only use 1/2 and
// +-1, so float32 error stays at the level of direct convolution (F(4,3) would not).
// Tiles are processed in chunks so the V and M scratch stays a few MB; bias, residual and ReLU run
// in the output transform, on data still in cache.

import CKernels

/// U[xi][co][ci] from folded 3x3 weights w[co][ci][3][3].
func winogradWeights(_ w: UnsafePointer<Float>, cout: Int, cin: Int, into u: UnsafeMutablePointer<Float>) {
    let plane = cout * cin
    for co in 0..<cout {
        for ci in 0..<cin {
            let g = w + (co * cin + ci) * 9
            // Gg (4x3): rows g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2  (load time: arrays are fine here)
            var gg = [Float](repeating: 0, count: 12)
            for c in 0..<3 {
                let a = g[c], b = g[3 + c], d = g[6 + c]
                gg[c] = a; gg[3 + c] = 0.5 * (a + b + d); gg[6 + c] = 0.5 * (a - b + d); gg[9 + c] = d
            }
            // (Gg) G^T (4x4)
            for r in 0..<4 {
                let a = gg[r * 3], b = gg[r * 3 + 1], d = gg[r * 3 + 2]
                let row = [a, 0.5 * (a + b + d), 0.5 * (a - b + d), d]
                for c in 0..<4 { u[(r * 4 + c) * plane + co * cin + ci] = row[c] }
            }
        }
    }
}

/// Scratch floats for a chunk of `tiles` tiles.
func winogradScratch(cin: Int, cout: Int, tiles: Int) -> Int { 16 * (cin + cout) * tiles }

func winogradTiles(h: Int, w: Int, n: Int) -> Int { n * ((h + 1) / 2) * ((w + 1) / 2) }

/// One conv: x (cin planes of h x w per image, CNHW, n images) -> y (cout planes, same size),
/// for the tiles in `tiles` (default all; tile t = image t / (th*tw), then row-major tiles).
func winogradConv(x: UnsafePointer<Float>, c1: Int, x2: UnsafePointer<Float>?, cin: Int, h: Int, w: Int, n: Int,
                  u: UnsafePointer<Float>, bias: UnsafePointer<Float>, cout: Int,
                  y: UnsafeMutablePointer<Float>, relu: Bool, accumulate: Bool, packed: Bool,
                  chunkTiles: Int, scratch: UnsafeMutablePointer<Float>, tiles: Range<Int>? = nil) {
    let range = tiles ?? 0..<winogradTiles(h: h, w: w, n: n)
    var t0 = range.lowerBound
    while t0 < range.upperBound {
        let tc = min(chunkTiles, range.upperBound - t0)
        let v = scratch, m = scratch + 16 * cin * tc
        // Input transform: V[xi][ci][t] (CKernels: AVX-512 where the CPU has it).
        lstv_winograd_input(x, Int32(c1), x2, Int32(cin), Int32(h), Int32(w), Int32(n), t0, Int32(tc), v)
        // 16 GEMMs: M[xi] (cout x tc) = U[xi] (cout x cin) * V[xi] (cin x tc).
        // Packed U (AVX-512): CKernels' GEMM, its 16 matrices lstv_gemm_packed_count apart.
        let uStride = packed ? lstv_gemm_packed_count(Int32(cout), Int32(cin)) : cout * cin
        for xi in 0..<16 {
            if packed {
                lstv_gemm_packed(u + xi * uStride, cin * Int(LSTV_GEMM_PANEL), Int32(cout), Int32(tc), Int32(cin),
                                 v + xi * cin * tc, tc, m + xi * cout * tc, tc, 0, nil, 0)
            } else {
                sgemm(m: cout, n: tc, k: cin, a: u + xi * uStride, lda: cin, b: v + xi * cin * tc, ldb: tc,
                      c: m + xi * cout * tc, ldc: tc, beta: 0)
            }
        }
        // Output transform + bias (+ residual) (+ ReLU).
        lstv_winograd_output(m, Int32(cout), Int32(h), Int32(w), Int32(n), t0, Int32(tc), bias, y,
                             relu ? 1 : 0, accumulate ? 1 : 0)
        t0 += tc
    }
}

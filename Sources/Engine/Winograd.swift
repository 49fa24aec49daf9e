// Winograd F(2x2, 3x3) for 3x3 stride-1 pad-1 convolutions (Lavin & Gray, 2015).
//
// Each 2x2 output tile costs 16 multiplies per (cin, cout) pair instead of 36: the 3x3 kernels
// are transformed once at load (U = G g G^T, 4x4), each 4x4 input patch is transformed
// (V = B^T d B), the product is 16 independent GEMMs  M[xi] = U[xi] (Cout x Cin) * V[xi] (Cin x tiles),
// and each 4x4 M tile goes back to 2x2 outputs (Y = A^T M A). F(2,3)'s transforms only use 1/2 and
// +-1, so float32 error stays at the level of direct convolution (F(4,3) would not).
// Tiles are processed in chunks so the V and M scratch stays a few MB; bias, residual and ReLU run
// in the output transform, on data still in cache.

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
                  y: UnsafeMutablePointer<Float>, relu: Bool, accumulate: Bool,
                  chunkTiles: Int, scratch: UnsafeMutablePointer<Float>, tiles: Range<Int>? = nil) {
    let th = (h + 1) / 2, tw = (w + 1) / 2, perImage = th * tw
    let plane = h * w, row = n * plane
    let range = tiles ?? 0..<(n * perImage)
    var t0 = range.lowerBound
    while t0 < range.upperBound {
        let tc = min(chunkTiles, range.upperBound - t0)
        let v = scratch, m = scratch + 16 * cin * tc
        // Input transform: V[xi][ci][t].
        for ci in 0..<cin {
            let xc = ci < c1 ? x + ci * row : x2! + (ci - c1) * row
            var img = t0 / perImage
            let rem = t0 - img * perImage
            var ty = rem / tw, tx = rem - ty * tw
            for t in 0..<tc {
                let iy0 = 2 * ty - 1, ix0 = 2 * tx - 1
                let src = xc + img * plane
                // Rows of the 4x4 patch (zero outside the image: pad 1).
                let r0: SIMD4<Float>, r1: SIMD4<Float>, r2: SIMD4<Float>, r3: SIMD4<Float>
                if iy0 >= 0 && iy0 + 3 < h && ix0 >= 0 && ix0 + 3 < w {
                    let s0 = src + iy0 * w + ix0
                    r0 = SIMD4(s0[0], s0[1], s0[2], s0[3])
                    r1 = SIMD4(s0[w], s0[w + 1], s0[w + 2], s0[w + 3])
                    r2 = SIMD4(s0[2 * w], s0[2 * w + 1], s0[2 * w + 2], s0[2 * w + 3])
                    r3 = SIMD4(s0[3 * w], s0[3 * w + 1], s0[3 * w + 2], s0[3 * w + 3])
                } else {
                    r0 = patchRow(src, h: h, w: w, iy: iy0, ix: ix0)
                    r1 = patchRow(src, h: h, w: w, iy: iy0 + 1, ix: ix0)
                    r2 = patchRow(src, h: h, w: w, iy: iy0 + 2, ix: ix0)
                    r3 = patchRow(src, h: h, w: w, iy: iy0 + 3, ix: ix0)
                }
                // B^T d (rows), then the same on columns.
                let q0 = r0 - r2, q1 = r1 + r2, q2 = r2 - r1, q3 = r1 - r3
                let base = v + ci * tc + t, st = cin * tc
                storeColumns(q0, base, st)
                storeColumns(q1, base + 4 * st, st)
                storeColumns(q2, base + 8 * st, st)
                storeColumns(q3, base + 12 * st, st)
                tx += 1
                if tx == tw { tx = 0; ty += 1; if ty == th { ty = 0; img += 1 } }
            }
        }
        // 16 GEMMs: M[xi] (cout x tc) = U[xi] (cout x cin) * V[xi] (cin x tc).
        for xi in 0..<16 {
            sgemm(m: cout, n: tc, k: cin, a: u + xi * cout * cin, lda: cin, b: v + xi * cin * tc, ldb: tc,
                  c: m + xi * cout * tc, ldc: tc, beta: 0)
        }
        // Output transform + bias (+ residual) (+ ReLU).
        for co in 0..<cout {
            let yc = y + co * row, bv = bias[co]
            var img = t0 / perImage
            let rem = t0 - img * perImage
            var ty = rem / tw, tx = rem - ty * tw
            let mc = m + co * tc
            let s = cout * tc
            for t in 0..<tc {
                let q = mc + t
                let m00 = q[0], m01 = q[s], m02 = q[2 * s], m03 = q[3 * s]
                let m10 = q[4 * s], m11 = q[5 * s], m12 = q[6 * s], m13 = q[7 * s]
                let m20 = q[8 * s], m21 = q[9 * s], m22 = q[10 * s], m23 = q[11 * s]
                let m30 = q[12 * s], m31 = q[13 * s], m32 = q[14 * s], m33 = q[15 * s]
                // A^T M: rows s0 = m0 + m1 + m2, s1 = m1 - m2 - m3
                let a0 = m00 + m10 + m20, a1 = m01 + m11 + m21, a2 = m02 + m12 + m22, a3 = m03 + m13 + m23
                let b0 = m10 - m20 - m30, b1 = m11 - m21 - m31, b2 = m12 - m22 - m32, b3 = m13 - m23 - m33
                var y00 = a0 + a1 + a2 + bv, y01 = a1 - a2 - a3 + bv
                var y10 = b0 + b1 + b2 + bv, y11 = b1 - b2 - b3 + bv
                let oy = 2 * ty, ox = 2 * tx
                let dst = yc + img * plane + oy * w + ox
                let right = ox + 1 < w, down = oy + 1 < h
                if accumulate {
                    y00 += dst[0]
                    if right { y01 += dst[1] }
                    if down { y10 += dst[w]; if right { y11 += dst[w + 1] } }
                }
                if relu { y00 = max(y00, 0); y01 = max(y01, 0); y10 = max(y10, 0); y11 = max(y11, 0) }
                dst[0] = y00
                if right { dst[1] = y01 }
                if down { dst[w] = y10; if right { dst[w + 1] = y11 } }
                tx += 1
                if tx == tw { tx = 0; ty += 1; if ty == th { ty = 0; img += 1 } }
            }
        }
        t0 += tc
    }
}

@inline(__always)
private func patchRow(_ src: UnsafePointer<Float>, h: Int, w: Int, iy: Int, ix: Int) -> SIMD4<Float> {
    var r = SIMD4<Float>(repeating: 0)
    if iy < 0 || iy >= h { return r }
    let p = src + iy * w
    for c in 0..<4 where ix + c >= 0 && ix + c < w { r[c] = p[ix + c] }
    return r
}

/// The column half of the input transform for one row q of B^T d: V[xi .. xi+3] (st apart).
@inline(__always)
private func storeColumns(_ q: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>, _ st: Int) {
    p[0] = q[0] - q[2]
    p[st] = q[1] + q[2]
    p[2 * st] = q[2] - q[1]
    p[3 * st] = q[1] - q[3]
}

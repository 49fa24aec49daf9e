// CPU kernels over CNHW activations (see Graph.swift). A "plane" is one channel of one image,
// h*w contiguous floats; a Ref with c channels at batch n is c*n planes back to back, so pools and
// upsampling are loops over planes. Convolutions go to OpenBLAS sgemm; everything else is plain
// loops the compiler vectorises (the build uses -O; pointer loops avoid bounds checks).

import CKernels
import COpenBLAS
import Foundation

@inline(__always)
func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// One K block of a conv's GEMM: C (rows x n, ldc) = W[rows, k0 ..< k0+k] * B (k x n, ldb), the
/// blocks summed in order (all but the `first` add to the earlier ones; a split-K part's first block
/// starts past k0 = 0), plus C's old value when `residual`;
/// bias + ReLU after the last block (`epilogue`). By the layer's weight layout: column panels
/// (CKernels' gemm.c, summing in C), channel panels (gemm_wide.c, summing in `transposed`, this
/// part's n x rows floats, and storing into C after the last block) or row-major (OpenBLAS, then
/// the epilogue). Packed rows must start on a panel.
func convGemm(_ L: ConvLayer, rows: Range<Int>, k0: Int, k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int,
              c: UnsafeMutablePointer<Float>, ldc: Int, first: Bool, residual: Bool, epilogue: Bool, relu: Bool,
              transposed: UnsafeMutablePointer<Float>) {
    let kdim = L.kdim, panel = L.layout.panelRows
    precondition(rows.lowerBound % panel == 0, "packed rows from \(rows.lowerBound)")
    let bias = epilogue ? UnsafePointer(L.bias + rows.lowerBound) : nil
    let accumulate = !first || residual
    switch L.layout {
    case .channelPanels:
        precondition(rows.count % panel == 0, "channel panels: \(rows.count) rows")
        lstv_gemm_wide(L.weight + rows.lowerBound * kdim + k0 * panel, kdim * panel, Int32(rows.count), Int32(n), Int32(k),
                       b, ldb, transposed, rows.count, first ? 0 : 1)
        if epilogue {
            lstv_gemm_wide_store(transposed, rows.count, Int32(rows.count), Int32(n), c, ldc, residual ? 1 : 0, bias, relu ? 1 : 0)
        }
    case .columnPanels:
        lstv_gemm_packed(L.weight + rows.lowerBound * kdim + k0 * panel, kdim * panel, Int32(rows.count), Int32(n), Int32(k),
                         b, ldb, c, ldc, accumulate ? 1 : 0, bias, relu ? 1 : 0)
    case .rowMajor:
        sgemm(m: rows.count, n: n, k: k, a: L.weight + rows.lowerBound * kdim + k0, lda: kdim, b: b, ldb: ldb,
              c: c, ldc: ldc, beta: accumulate ? 1 : 0)
        if let bias { biasActivation(c, ldc: ldc, rows: rows.count, cols: n, bias: bias, relu: relu) }
    }
}

/// im2col for output rows [r0, r1) of the whole batch (row r = image r / oh, output row r % oh).
/// col is [cin*k*k] x [(r1-r0)*ow], row-major: row (ci, ky, kx), column (r, ox).
/// Input channels [0, c1) come from x, [c1, cin) from x2 (the decoder's concat, read in place).
/// `channels` restricts the work to some input channels (their rows of col), for splitting across
/// threads or cutting a huge K into blocks; col then starts at channel `colBase`. The copy itself is
/// CKernels' (`lstv_im2col`: masked AVX-512 loads, stride 2 by a permute).
func im2col(_ x: UnsafePointer<Float>, c1: Int, _ x2: UnsafePointer<Float>?, cin: Int, h: Int, w: Int, n: Int,
            k: Int, stride: Int, pad: Int, oh: Int, ow: Int, r0: Int, r1: Int, col: UnsafeMutablePointer<Float>,
            channels: Range<Int>? = nil, colBase: Int = 0) {
    let chans = channels ?? 0..<cin
    precondition(x2 != nil || chans.upperBound <= c1, "im2col: channels past the first input without a second")
    lstv_im2col(x, Int32(c1), x2, Int32(h), Int32(w), Int32(n), Int32(k), Int32(stride), Int32(pad), Int32(oh), Int32(ow),
                Int32(r0), Int32(r1), col, Int32(chans.lowerBound), Int32(chans.upperBound), Int32(colBase))
}

/// y[c][j] = act(y[c][j] + bias[c]) for j < cols, rows ldc apart.
func biasActivation(_ y: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int,
                    bias: UnsafePointer<Float>, relu: Bool) {
    for c in 0..<rows {
        let p = y + c * ldc, b = bias[c]
        if relu {
            for j in 0..<cols { p[j] = max(p[j] + b, 0) }
        } else {
            for j in 0..<cols { p[j] += b }
        }
    }
}

/// 2x2 stride-2 average pool over `planes` planes. Floor mode drops an odd last row/column
/// (F.avg_pool2d(2, 2)); ceil mode keeps it and divides by the number of valid inputs
/// (AvgPool2d(2, ceil_mode=True, count_include_pad=False)).
func avgPool2x2(_ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int,
                _ y: UnsafeMutablePointer<Float>, oh: Int, ow: Int) {
    for p in 0..<planes {
        let xp = x + p * h * w, yp = y + p * oh * ow
        for oy in 0..<oh {
            let y0 = 2 * oy, y1 = min(2 * oy + 1, h - 1)
            let r0 = xp + y0 * w, r1 = xp + y1 * w
            let rowsN: Float = y1 > y0 ? 2 : 1
            let yr = yp + oy * ow
            if y1 > y0 {
                for ox in 0..<ow {
                    let x0 = 2 * ox
                    if x0 + 1 < w {
                        yr[ox] = (r0[x0] + r0[x0 + 1] + r1[x0] + r1[x0 + 1]) * 0.25
                    } else {
                        yr[ox] = (r0[x0] + r1[x0]) / rowsN
                    }
                }
            } else {
                for ox in 0..<ow {
                    let x0 = 2 * ox
                    yr[ox] = x0 + 1 < w ? (r0[x0] + r0[x0 + 1]) * 0.5 : r0[x0]
                }
            }
        }
    }
}

/// 3x3 stride-2 pad-1 max pool (padding is -inf, i.e. ignored).
func maxPool3x3s2(_ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int,
                  _ y: UnsafeMutablePointer<Float>, oh: Int, ow: Int) {
    for p in 0..<planes {
        let xp = x + p * h * w, yp = y + p * oh * ow
        for oy in 0..<oh {
            let ya = max(0, 2 * oy - 1), yb = min(h - 1, 2 * oy + 1)
            for ox in 0..<ow {
                let xa = max(0, 2 * ox - 1), xb = min(w - 1, 2 * ox + 1)
                var m = -Float.infinity
                for iy in ya...yb {
                    let r = xp + iy * w
                    for ix in xa...xb { m = max(m, r[ix]) }
                }
                yp[oy * ow + ox] = m
            }
        }
    }
}

/// Nearest 2x upsample over `planes` planes of h x w into 2h x 2w.
func upsample2x(_ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int, _ y: UnsafeMutablePointer<Float>) {
    let ow = 2 * w
    for p in 0..<planes {
        let xp = x + p * h * w, yp = y + p * 4 * h * w
        for iy in 0..<h {
            let src = xp + iy * w, d0 = yp + 2 * iy * ow
            for ix in 0..<w { let v = src[ix]; d0[2 * ix] = v; d0[2 * ix + 1] = v }
            (d0 + ow).update(from: d0, count: ow)
        }
    }
}

/// Softmax over `classes` rows of CNHW logits (row stride n*plane) into NCHW probabilities, for the
/// pixels `pixels` of each image's plane (the threads split the plane).
func softmaxToNCHW(_ logits: UnsafePointer<Float>, classes: Int, n: Int, plane: Int, _ out: UnsafeMutablePointer<Float>,
                   pixels: Range<Int>) {
    let row = n * plane, count = pixels.count
    if count == 0 { return }
    for img in 0..<n {
        let src = logits + img * plane + pixels.lowerBound, dst = out + img * classes * plane + pixels.lowerBound
        // Pass 1: max per pixel into dst[0..plane) as scratch; pass 2: exp and sum; pass 3: scale.
        // Class-major loops keep every access contiguous.
        let m = dst
        m.update(from: src, count: count)
        for c in 1..<max(classes, 1) {
            let s = src + c * row
            for j in 0..<count { m[j] = max(m[j], s[j]) }
        }
        // Store exp(l - max) in classes 1..C-1 first, class 0 last (it overwrites the max scratch).
        for c in stride(from: classes - 1, through: 0, by: -1) {
            let s = src + c * row, d = dst + c * plane
            for j in 0..<count { d[j] = expf(s[j] - m[j]) }
        }
        // Sum and normalise per pixel.
        for j in 0..<count {
            var sum: Float = 0
            for c in 0..<classes { sum += dst[c * plane + j] }
            let inv = 1 / sum
            for c in 0..<classes { dst[c * plane + j] *= inv }
        }
    }
}

// Bilinear resize bit-exact with OpenCV's cv2.resize(..., INTER_LINEAR) on 8-bit single-channel images.
// The network was trained on cv2's output, so "bilinear" is not enough: every pixel must be cv2's.
//
// What cv2 does for CV_8U INTER_LINEAR (resizeGeneric_, checked against opencv-python 5.0 on
// upscales, downscales, non-square, 1-pixel-high and exact 2x, see Tests/AnalysisTests):
//  * source coordinate of destination index d: f = Float((d + 0.5) * scale - 0.5) with
//    scale = 1 / (dst / src) in Double, the cast to Float happening BEFORE floor; s = floor(f),
//    fraction = f - s in Float;
//  * weights: saturate_cast<short>((1 - fraction) * 2048) and (fraction * 2048), round-half-even
//    (INTER_RESIZE_COEF_BITS = 11);
//  * horizontally, coordinates outside the image are clamped (s < 0 → s = 0, fraction 0; s ≥ src-1
//    → s = src-1, fraction 0); the pass keeps an Int32 sum `a*S[s] + b*S[s+1]` (scale 2048);
//  * vertically the fraction is NOT clamped: the two source rows are clipped to [0, src-1], which
//    changes the rounding at the top and bottom rows of an upscale;
//  * the vertical combine is the SIMD formula, used for every pixel by this build:
//    t = (S >> 4) as Int16; v = (t0*b0 >> 16) + (t1*b1 >> 16) (saturating Int16); out = (v + 2) >> 2
//    saturated to 0...255. (The scalar formula (S0*b0 + S1*b1 + 2^21) >> 22 differs by 1 on some
//    pixels and does not match cv2.)
// cv2 turns an exact 2x downscale into INTER_AREA; for 8-bit data that equals the formula above.

public enum OpenCVResize {
    static let coefBits = 11
    static let coefScale = Float(1 << coefBits)

    /// Source index and the two fixed-point weights for each destination index along one axis.
    static func taps(src: Int, dst: Int, clampFraction: Bool) -> [(index: Int, w0: Int32, w1: Int32)] {
        let scale = 1.0 / (Double(dst) / Double(src))
        return (0..<dst).map { d in
            var f = Float((Double(d) + 0.5) * scale - 0.5)
            var s = Int(f.rounded(.down))
            f -= Float(s)
            if clampFraction {
                if s < 0 { s = 0; f = 0 }
                if s >= src - 1 { s = src - 1; f = 0 }
            }
            let w0 = Int32(((1 - f) * coefScale).rounded(.toNearestOrEven))
            let w1 = Int32((f * coefScale).rounded(.toNearestOrEven))
            return (s, w0, w1)
        }
    }
}

/// `cv2.resize(img, (dstCols, dstRows), interpolation=cv2.INTER_LINEAR)` for a row-major 8-bit image.
public func resizeBilinearLikeOpenCV(_ image: [UInt8], srcRows: Int, srcCols: Int,
                                     dstRows: Int, dstCols: Int) -> [UInt8] {
    precondition(srcRows > 0 && srcCols > 0 && dstRows > 0 && dstCols > 0, "empty image")
    precondition(image.count == srcRows * srcCols, "pixel count \(image.count) != \(srcRows)x\(srcCols)")
    let xt = OpenCVResize.taps(src: srcCols, dst: dstCols, clampFraction: true)
    let yt = OpenCVResize.taps(src: srcRows, dst: dstRows, clampFraction: false)

    // Horizontal pass, one source row at a time, cached: each output row needs two source rows.
    var hcache: [Int: [Int32]] = [:]
    func hrow(_ r: Int) -> [Int32] {
        if let row = hcache[r] { return row }
        let base = r * srcCols
        let row = xt.map { t -> Int32 in
            let a = Int32(image[base + t.index])
            // The clamped last tap has weight 0; reading index+1 would leave the row.
            let b = t.index + 1 < srcCols ? Int32(image[base + t.index + 1]) : 0
            return a * t.w0 + b * t.w1
        }
        if hcache.count > 4 { hcache.removeAll(keepingCapacity: true) }
        hcache[r] = row
        return row
    }

    var out = [UInt8](repeating: 0, count: dstRows * dstCols)
    for dy in 0..<dstRows {
        let t = yt[dy]
        let r0 = min(max(t.index, 0), srcRows - 1)
        let r1 = min(max(t.index + 1, 0), srcRows - 1)
        let s0 = hrow(r0), s1 = hrow(r1)
        let b0 = t.w0, b1 = t.w1
        for dx in 0..<dstCols {
            let x0 = satInt16(s0[dx] >> 4), x1 = satInt16(s1[dx] >> 4)
            let v = satInt16(((x0 * b0) >> 16) + ((x1 * b1) >> 16))
            out[dy * dstCols + dx] = UInt8(clamping: (v + 2) >> 2)
        }
    }
    return out
}

/// `_mm_packs_epi32` / `_mm_adds_epi16`: saturate to the Int16 range, kept in Int32.
@inline(__always)
private func satInt16(_ v: Int32) -> Int32 { min(max(v, -32768), 32767) }

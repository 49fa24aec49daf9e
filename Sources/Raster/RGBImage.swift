/// An 8-bit RGB image: interleaved R, G, B bytes, row by row.
public struct RGBImage: Equatable, Sendable {
    public var pixels: [UInt8]
    public var rows: Int
    public var columns: Int

    public init(pixels: [UInt8], rows: Int, columns: Int) { self.pixels = pixels; self.rows = rows; self.columns = columns }

    /// A monochrome frame (any range: stored values after rescale) as grey RGB, its minimum black
    /// and its maximum white: a viewer without the modality's window still sees the whole range.
    /// A flat frame is black rather than a division by zero.
    public init(greyscale values: [Float], rows: Int, columns: Int) {
        let low = values.min() ?? 0, high = values.max() ?? 0
        let scale: Float = high > low ? 255 / (high - low) : 0
        var pixels = [UInt8](repeating: 0, count: values.count * 3)
        for (i, v) in values.enumerated() {
            let g = UInt8(max(0, min(255, ((v - low) * scale).rounded())))
            pixels[3 * i] = g; pixels[3 * i + 1] = g; pixels[3 * i + 2] = g
        }
        self.init(pixels: pixels, rows: rows, columns: columns)
    }

    /// The image shrunk so its longer side is at most `maxSide`, each output pixel the mean of the
    /// source pixels under it (a box filter: text and thin lines on the key image stay visible as
    /// grey rather than vanishing between samples). Never enlarged.
    public func downscaled(toFit maxSide: Int) -> RGBImage {
        let factor = Double(max(rows, columns)) / Double(max(1, maxSide))
        guard factor > 1 else { return self }
        let outRows = max(1, Int((Double(rows) / factor).rounded())), outColumns = max(1, Int((Double(columns) / factor).rounded()))
        var out = [UInt8](repeating: 0, count: outRows * outColumns * 3)
        for r in 0..<outRows {
            let r0 = r * rows / outRows, r1 = max(r0 + 1, (r + 1) * rows / outRows)
            for c in 0..<outColumns {
                let c0 = c * columns / outColumns, c1 = max(c0 + 1, (c + 1) * columns / outColumns)
                var sum = (0, 0, 0)
                for sr in r0..<r1 {
                    for sc in c0..<c1 {
                        let i = (sr * columns + sc) * 3
                        sum.0 += Int(pixels[i]); sum.1 += Int(pixels[i + 1]); sum.2 += Int(pixels[i + 2])
                    }
                }
                let n = (r1 - r0) * (c1 - c0), o = (r * outColumns + c) * 3
                out[o] = UInt8((sum.0 + n / 2) / n); out[o + 1] = UInt8((sum.1 + n / 2) / n); out[o + 2] = UInt8((sum.2 + n / 2) / n)
            }
        }
        return RGBImage(pixels: out, rows: outRows, columns: outColumns)
    }
}

// The key image's pixels (issue 5): the middle slice with the five level heatmaps overlaid, the
// level points marked and labelled, a "NOT FOR DIAGNOSTIC USE" banner across the top and the risk
// and footer text in a band at the bottom. Pure Swift, deterministic: the same input gives the same
// bytes. The Secondary Capture writer wraps the result; this file knows nothing of DICOM.
//
// Geometry: the output is the slice upscaled by an integer factor `scale` (bilinear, pixel centres
// aligned), so output pixel (r, c) shows original pixel ((r + 0.5) / scale - 0.5, ...) and the aspect
// ratio is exactly the input's. Banner and bottom band are drawn over the image, not added to it.

import Foundation

public struct KeyImageInput: Sendable {
    /// The middle slice, original resolution, row-major, already scaled to 8 bits.
    public var grey: [UInt8]
    public var rows: Int
    public var columns: Int
    /// One map per disc level (L1/L2 … L5/S1), each `gridRows * gridColumns` probabilities in 0…1,
    /// on the network's grid, which covers the whole slice (cv2-style resize, pixel centres aligned).
    public var heatmaps: [[Float]]
    public var gridRows: Int
    public var gridColumns: Int
    /// Per level, on the original pixel grid (0-based pixel centres); nil = not found.
    public var points: [(label: String, row: Double, column: Double)?]
    /// e.g. "LSTV SUSPICION: HIGH (L5/S1 ENTROPY 6.12)"; coloured red/amber/green by HIGH/MEDIUM/LOW.
    public var riskText: String
    /// e.g. "5 LUMBAR (P 0.93), JUNCTION TYPICAL": what the suspicion rests on, under the risk line.
    public var detailText: String
    /// e.g. "LSTV-LOCALIZER 1.0.0  LADDER: CONSISTENT".
    public var footerText: String

    public init(grey: [UInt8], rows: Int, columns: Int,
                heatmaps: [[Float]] = [], gridRows: Int = 0, gridColumns: Int = 0,
                points: [(label: String, row: Double, column: Double)?] = [],
                riskText: String = "", detailText: String = "", footerText: String = "") {
        self.grey = grey
        self.rows = rows
        self.columns = columns
        self.heatmaps = heatmaps
        self.gridRows = gridRows
        self.gridColumns = gridColumns
        self.points = points
        self.riskText = riskText
        self.detailText = detailText
        self.footerText = footerText
    }
}

/// An 8-bit RGB colour.
public struct KeyImageColour: Equatable, Hashable, Sendable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
}

public enum KeyImageRenderer {
    public static let bannerText = "NOT FOR DIAGNOSTIC USE"
    /// Output short side at least this (unless `maximumLongSide` forbids it).
    public static let minimumShortSide = 512
    /// Upscaling never makes the long side exceed this (only matters for absurd aspect ratios).
    public static let maximumLongSide = 4096
    /// Overlay opacity at probability 1.
    public static let heatmapOpacity: Float = 0.6
    /// Probabilities below this leave the pixel untouched (the background stays exactly grey).
    public static let heatmapFloor: Float = 0.01

    /// Level colours, L1/L2 … L5/S1 (cycled if there are more levels). None is red, which is the banner's.
    public static let levelColours: [KeyImageColour] = [
        KeyImageColour(0, 170, 255),   // L1/L2 blue
        KeyImageColour(0, 220, 110),   // L2/L3 green
        KeyImageColour(255, 230, 0),   // L3/L4 yellow
        KeyImageColour(255, 130, 0),   // L4/L5 orange
        KeyImageColour(255, 0, 220),   // L5/S1 magenta
    ]
    public static let bannerColour = KeyImageColour(200, 0, 0)
    public static let bannerTextColour = KeyImageColour(255, 255, 255)
    public static let bandColour = KeyImageColour(0, 0, 0)
    public static let outlineColour = KeyImageColour(0, 0, 0)
    public static let neutralTextColour = KeyImageColour(255, 255, 255)
    public static let footerTextColour = KeyImageColour(200, 200, 200)
    public static let highRiskColour = KeyImageColour(255, 60, 60)
    public static let mediumRiskColour = KeyImageColour(255, 176, 0)
    public static let lowRiskColour = KeyImageColour(40, 210, 80)

    public static func levelColour(_ level: Int) -> KeyImageColour {
        levelColours[((level % levelColours.count) + levelColours.count) % levelColours.count]
    }

    /// The output size and integer upscaling factor for a `rows` x `columns` slice. An empty or
    /// absurd size (≤ 0, or more than 2^26 pixels) is treated as a 1x1 black slice.
    public static func outputGeometry(rows: Int, columns: Int) -> (rows: Int, columns: Int, scale: Int) {
        let (r, c) = validSize(rows: rows, columns: columns) ?? (1, 1)
        let short = min(r, c), long = max(r, c)
        var scale = max(1, (minimumShortSide + short - 1) / short)
        scale = max(1, min(scale, maximumLongSide / long))
        return (r * scale, c * scale, scale)
    }

    /// Colour of the risk line: the first of HIGH / MEDIUM / LOW appearing as a word, else white.
    public static func riskColour(_ text: String) -> KeyImageColour {
        let words = text.uppercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) })
        for w in words {
            switch w {
            case "HIGH": return highRiskColour
            case "MEDIUM": return mediumRiskColour
            case "LOW": return lowRiskColour
            default: continue
            }
        }
        return neutralTextColour
    }

    /// Text size factor (font pixels → output pixels) for an output whose short side is `short`.
    static func textScale(short: Int) -> Int { max(1, short / 256) }

    /// Interleaved RGB, `rows * columns * 3`.
    public static func render(_ input: KeyImageInput) -> (rgb: [UInt8], rows: Int, columns: Int) {
        let size = validSize(rows: input.rows, columns: input.columns)
        let srcRows = size?.0 ?? 1, srcCols = size?.1 ?? 1
        let (outRows, outCols, scale) = outputGeometry(rows: input.rows, columns: input.columns)

        // 1. Grey, upscaled (bilinear), and the heatmaps blended on it, in floating point.
        var image = upscaleGrey(input.grey, valid: size != nil, rows: srcRows, columns: srcCols,
                                scale: scale, outRows: outRows, outColumns: outCols)
        for (level, map) in input.heatmaps.enumerated() {
            blendHeatmap(map, gridRows: input.gridRows, gridColumns: input.gridColumns,
                         colour: levelColour(level), into: &image, outRows: outRows, outColumns: outCols)
        }
        var canvas = RGBCanvas(rows: outRows, columns: outCols,
                               pixels: image.map { UInt8(max(0, min(255, $0.rounded()))) })

        let ts = textScale(short: min(outRows, outCols))
        let margin = max(6, 3 * ts)

        // 2. Points and labels.
        let arm = 3 * ts + 2
        let dot = max(1, ts)
        let outline = max(1, ts / 2)
        for (level, point) in input.points.enumerated() {
            guard let p = point, p.row.isFinite, p.column.isFinite,
                  abs(p.row) < 1e7, abs(p.column) < 1e7 else { continue }
            let colour = levelColour(level)
            let r = Int(((p.row + 0.5) * Double(scale) - 0.5).rounded())
            let c = Int(((p.column + 0.5) * Double(scale) - 0.5).rounded())
            canvas.drawMarker(row: r, column: c, arm: arm, dot: dot, outline: outline,
                              colour: colour, outlineColour: outlineColour)
            guard !p.label.isEmpty else { continue }
            let width = BitmapFont.width(of: p.label) * ts
            let gap = arm + outline + 2 * ts
            var left = c + gap
            if left + width > outCols - margin, c - gap - width >= margin { left = c - gap - width }
            let top = r - (BitmapFont.glyphHeight * ts) / 2
            canvas.drawText(p.label, top: top, left: left, scale: ts, colour: colour,
                            outline: outline, outlineColour: outlineColour)
        }

        // 3. The banner across the top.
        let bannerScale = fittingScale(bannerText, preferred: ts + 1, width: outCols - 2 * margin)
        let bannerPad = max(4, 2 * bannerScale)
        let bannerHeight = BitmapFont.glyphHeight * bannerScale + 2 * bannerPad
        canvas.fill(top: 0, left: 0, height: bannerHeight, width: outCols, colour: bannerColour)
        let bannerWidth = BitmapFont.width(of: bannerText) * bannerScale
        canvas.drawText(bannerText, top: bannerPad, left: max(margin, (outCols - bannerWidth) / 2),
                        scale: bannerScale, colour: bannerTextColour)

        // 4. Risk and footer in a band at the bottom (shrunk to fit where possible, else clipped).
        let lines = [(input.riskText, riskColour(input.riskText)), (input.detailText, footerTextColour),
                     (input.footerText, footerTextColour)]
            .filter { !$0.0.isEmpty }
        if !lines.isEmpty {
            let scales = lines.map { fittingScale($0.0, preferred: ts, width: outCols - 2 * margin) }
            let lineGap = max(2, ts * 2)
            let bandPad = max(4, 2 * ts)
            let bandHeight = scales.reduce(0) { $0 + BitmapFont.glyphHeight * $1 } + lineGap * (lines.count - 1) + 2 * bandPad
            let bandTop = max(bannerHeight, outRows - bandHeight)
            canvas.fill(top: bandTop, left: 0, height: outRows - bandTop, width: outCols, colour: bandColour)
            var y = bandTop + bandPad
            for (i, line) in lines.enumerated() {
                canvas.drawText(line.0, top: y, left: margin, scale: scales[i], colour: line.1)
                y += BitmapFont.glyphHeight * scales[i] + lineGap
            }
        }
        return (canvas.pixels, outRows, outCols)
    }

    // MARK: - Pieces

    static func validSize(rows: Int, columns: Int) -> (Int, Int)? {
        guard rows > 0, columns > 0 else { return nil }
        let (n, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow, n <= 1 << 26 else { return nil }
        return (rows, columns)
    }

    /// The largest scale ≤ `preferred` (≥ 1) at which `text` fits in `width` pixels.
    static func fittingScale(_ text: String, preferred: Int, width: Int) -> Int {
        let w = BitmapFont.width(of: text)
        guard w > 0 else { return max(1, preferred) }
        return max(1, min(preferred, width / w))
    }

    /// Bilinear upscale by an integer factor, pixel centres aligned (source x = (o + 0.5) / s - 0.5,
    /// clamped at the edges), to an interleaved RGB float image. Missing pixels are black.
    static func upscaleGrey(_ grey: [UInt8], valid: Bool, rows: Int, columns: Int, scale: Int,
                            outRows: Int, outColumns: Int) -> [Float] {
        var out = [Float](repeating: 0, count: outRows * outColumns * 3)
        guard valid else { return out }
        // The source, padded with black where the buffer is short.
        var src = [Float](repeating: 0, count: rows * columns)
        for i in 0..<min(src.count, grey.count) { src[i] = Float(grey[i]) }
        let xs = taps(src: columns, dst: outColumns, scale: Float(scale))
        let ys = taps(src: rows, dst: outRows, scale: Float(scale))
        src.withUnsafeBufferPointer { sp in
            out.withUnsafeMutableBufferPointer { op in
                for o in 0..<outRows {
                    let (y0, y1, wy) = ys[o]
                    let row0 = y0 * columns, row1 = y1 * columns
                    for q in 0..<outColumns {
                        let v = bilinear(sp, row0, row1, xs[q], wy)
                        let k = (o * outColumns + q) * 3
                        op[k] = v; op[k + 1] = v; op[k + 2] = v
                    }
                }
            }
        }
        return out
    }

    /// One bilinear sample between two source rows (offsets `row0`, `row1`) at column tap `x`.
    @inline(__always)
    static func bilinear(_ p: UnsafeBufferPointer<Float>, _ row0: Int, _ row1: Int, _ x: (Int, Int, Float), _ wy: Float) -> Float {
        let (x0, x1, wx) = x
        let top = p[row0 + x0] * (1 - wx) + p[row0 + x1] * wx
        let bottom = p[row1 + x0] * (1 - wx) + p[row1 + x1] * wx
        return top * (1 - wy) + bottom * wy
    }

    /// For each destination index, the two source indices and the weight of the second, for
    /// source coordinate (d + 0.5) / scale - 0.5 clamped to [0, src - 1].
    static func taps(src: Int, dst: Int, scale: Float) -> [(Int, Int, Float)] {
        (0..<dst).map { d in
            let x = min(max((Float(d) + 0.5) / scale - 0.5, 0), Float(src - 1))
            let x0 = min(Int(x), src - 1)
            let x1 = min(x0 + 1, src - 1)
            return (x0, x1, x - Float(x0))
        }
    }

    /// Resizes one probability map (bilinear, pixel centres aligned, the grid covering the whole
    /// slice) to the output and blends `colour` with opacity `heatmapOpacity * p`. Maps whose size
    /// does not match the grid are skipped; NaN counts as 0, values are clamped to 0…1.
    static func blendHeatmap(_ map: [Float], gridRows: Int, gridColumns: Int, colour: KeyImageColour,
                             into image: inout [Float], outRows: Int, outColumns: Int) {
        guard let (gr, gc) = validSize(rows: gridRows, columns: gridColumns), map.count == gr * gc else { return }
        let xs = taps(src: gc, dst: outColumns, scale: Float(outColumns) / Float(gc))
        let ys = taps(src: gr, dst: outRows, scale: Float(outRows) / Float(gr))
        let cr = Float(colour.r), cg = Float(colour.g), cb = Float(colour.b)
        let clean = map.map { $0.isNaN ? 0 : min(max($0, 0), 1) }
        clean.withUnsafeBufferPointer { mp in
            image.withUnsafeMutableBufferPointer { ip in
                for o in 0..<outRows {
                    let (y0, y1, wy) = ys[o]
                    let row0 = y0 * gc, row1 = y1 * gc
                    for q in 0..<outColumns {
                        let v = bilinear(mp, row0, row1, xs[q], wy)
                        guard v >= heatmapFloor else { continue }
                        let a = heatmapOpacity * v
                        let k = (o * outColumns + q) * 3
                        ip[k] += (cr - ip[k]) * a
                        ip[k + 1] += (cg - ip[k + 1]) * a
                        ip[k + 2] += (cb - ip[k + 2]) * a
                    }
                }
            }
        }
    }
}

/// An interleaved RGB image that every drawing call clips to.
struct RGBCanvas {
    let rows: Int
    let columns: Int
    var pixels: [UInt8]

    init(rows: Int, columns: Int, pixels: [UInt8]) {
        self.rows = rows
        self.columns = columns
        self.pixels = pixels
    }

    init(rows: Int, columns: Int, colour: KeyImageColour = KeyImageColour(0, 0, 0)) {
        self.rows = rows
        self.columns = columns
        pixels = [UInt8](repeating: 0, count: rows * columns * 3)
        fill(top: 0, left: 0, height: rows, width: columns, colour: colour)
    }

    func pixel(_ r: Int, _ c: Int) -> KeyImageColour? {
        guard r >= 0, r < rows, c >= 0, c < columns else { return nil }
        let k = (r * columns + c) * 3
        return KeyImageColour(pixels[k], pixels[k + 1], pixels[k + 2])
    }

    mutating func set(_ r: Int, _ c: Int, _ colour: KeyImageColour) {
        guard r >= 0, r < rows, c >= 0, c < columns else { return }
        let k = (r * columns + c) * 3
        pixels[k] = colour.r; pixels[k + 1] = colour.g; pixels[k + 2] = colour.b
    }

    mutating func fill(top: Int, left: Int, height: Int, width: Int, colour: KeyImageColour) {
        let r0 = max(0, top), r1 = min(rows, top.addingClamped(height))
        let c0 = max(0, left), c1 = min(columns, left.addingClamped(width))
        guard r0 < r1, c0 < c1 else { return }
        for r in r0..<r1 { for c in c0..<c1 { set(r, c, colour) } }
    }

    /// A filled square dot of half-size `dot` and a cross with arms of `arm` pixels (3 wide when
    /// `dot` > 1), centred on (row, column), with an `outline`-pixel dark border.
    mutating func drawMarker(row: Int, column: Int, arm: Int, dot: Int, outline: Int,
                             colour: KeyImageColour, outlineColour: KeyImageColour) {
        let half = dot > 1 ? 1 : 0
        let shape: [(Int, Int, Int, Int)] = [  // top, left, height, width, relative to the centre
            (-dot, -dot, 2 * dot + 1, 2 * dot + 1),
            (-arm, -half, 2 * arm + 1, 2 * half + 1),
            (-half, -arm, 2 * half + 1, 2 * arm + 1),
        ]
        for s in shape {
            fill(top: row + s.0 - outline, left: column + s.1 - outline,
                 height: s.2 + 2 * outline, width: s.3 + 2 * outline, colour: outlineColour)
        }
        for s in shape { fill(top: row + s.0, left: column + s.1, height: s.2, width: s.3, colour: colour) }
    }

    /// One line of text, top-left at (top, left), each font pixel a `scale` x `scale` square,
    /// with an optional dark border `outline` pixels wide. Anything outside the canvas is clipped.
    mutating func drawText(_ text: String, top: Int, left: Int, scale: Int, colour: KeyImageColour,
                           outline: Int = 0, outlineColour: KeyImageColour = KeyImageColour(0, 0, 0)) {
        let s = max(1, scale)
        let cell = BitmapFont.advance * s
        guard top < rows, top.addingClamped(BitmapFont.glyphHeight * s + outline) >= 0 else { return }
        for pass in (outline > 0 ? [true, false] : [false]) {
            var x = left
            for ch in text {
                if x >= columns + outline { break }
                if x + cell + outline >= 0 {
                    let glyph = BitmapFont.glyph(for: ch)
                    for gy in 0..<BitmapFont.glyphHeight where glyph[gy] != 0 {
                        for gx in 0..<BitmapFont.glyphWidth where glyph[gy] & (1 << (BitmapFont.glyphWidth - 1 - gx)) != 0 {
                            let y0 = top + gy * s, x0 = x + gx * s
                            if pass {
                                fill(top: y0 - outline, left: x0 - outline, height: s + 2 * outline,
                                     width: s + 2 * outline, colour: outlineColour)
                            } else {
                                fill(top: y0, left: x0, height: s, width: s, colour: colour)
                            }
                        }
                    }
                }
                x = x.addingClamped(cell)
            }
        }
    }
}

private extension Int {
    func addingClamped(_ other: Int) -> Int {
        let (v, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? Int.max : Int.min) : v
    }
}

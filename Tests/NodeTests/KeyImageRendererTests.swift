import Foundation
import XCTest
@testable import Node

final class KeyImageRendererTests: XCTestCase {
    typealias Colour = KeyImageColour

    /// A horizontal grey ramp (never pure black or white), so that "still grey" is not trivially true.
    func ramp(rows: Int, columns: Int) -> [UInt8] {
        (0..<rows * columns).map { UInt8(40 + (($0 % columns) * 150) / max(1, columns - 1)) }
    }

    func pixel(_ out: (rgb: [UInt8], rows: Int, columns: Int), _ r: Int, _ c: Int) -> Colour {
        let k = (r * out.columns + c) * 3
        return Colour(out.rgb[k], out.rgb[k + 1], out.rgb[k + 2])
    }

    func isGrey(_ p: Colour) -> Bool { p.r == p.g && p.g == p.b }

    /// The output pixel of original pixel centre x at an integer upscale (centres aligned).
    func centre(_ x: Double, scale: Int) -> Int { Int(((x + 0.5) * Double(scale) - 0.5).rounded()) }

    /// Rows at the top whose first pixel is the banner colour.
    func bannerHeight(_ out: (rgb: [UInt8], rows: Int, columns: Int)) -> Int {
        var h = 0
        while h < out.rows, pixel(out, h, 0) == KeyImageRenderer.bannerColour { h += 1 }
        return h
    }

    // MARK: Banner

    func testBannerIsSolidRedWithWhiteText() {
        let out = KeyImageRenderer.render(KeyImageInput(grey: ramp(rows: 221, columns: 221), rows: 221, columns: 221))
        let h = bannerHeight(out)
        XCTAssertGreaterThanOrEqual(h, 14, "banner too thin to carry legible text")
        XCTAssertLessThan(h, out.rows / 8, "banner covers too much of the image")
        var white = 0, other = 0
        for r in 0..<h {
            for c in 0..<out.columns {
                let p = pixel(out, r, c)
                if p == KeyImageRenderer.bannerTextColour { white += 1 }
                else if p != KeyImageRenderer.bannerColour { other += 1 }
            }
        }
        XCTAssertEqual(other, 0, "banner has pixels that are neither red nor white")
        // Every set font pixel of "NOT FOR DIAGNOSTIC USE", drawn at least 2x2.
        let fontPixels = KeyImageRenderer.bannerText.reduce(0) { n, ch in
            n + BitmapFont.glyph(for: ch).reduce(0) { $0 + $1.nonzeroBitCount }
        }
        XCTAssertGreaterThan(fontPixels, 150)
        XCTAssertGreaterThanOrEqual(white, fontPixels * 4)
        XCTAssertEqual(white % fontPixels, 0, "white pixels are whole scaled glyph pixels")
        // The banner is red across the full width, and the row below it is image again.
        XCTAssertEqual(pixel(out, 0, out.columns - 1), KeyImageRenderer.bannerColour)
        XCTAssertEqual(pixel(out, h - 1, out.columns - 1), KeyImageRenderer.bannerColour)
        XCTAssertTrue(isGrey(pixel(out, h, 0)))
        // The text is the banner's, centred: white columns on both halves.
        let whiteColumns = (0..<out.columns).filter { c in (0..<h).contains { pixel(out, $0, c) == KeyImageRenderer.bannerTextColour } }
        guard let first = whiteColumns.first, let last = whiteColumns.last else { return XCTFail("no banner text") }
        XCTAssertLessThan(first, out.columns / 2)
        XCTAssertGreaterThan(last, out.columns / 2)
        XCTAssertEqual(first + last, out.columns - 1, accuracy: 2)
    }

    func testBannerDrawnEvenOnBlankOrMissingImage() {
        for input in [KeyImageInput(grey: [], rows: 0, columns: 0),
                      KeyImageInput(grey: [], rows: 100, columns: 100),
                      KeyImageInput(grey: [255, 255], rows: -3, columns: 7)] {
            let out = KeyImageRenderer.render(input)
            XCTAssertEqual(out.rgb.count, out.rows * out.columns * 3)
            XCTAssertGreaterThanOrEqual(min(out.rows, out.columns), 512)
            XCTAssertGreaterThanOrEqual(bannerHeight(out), 14)
        }
    }

    // MARK: Points

    func testPointCentrePixelHasItsLevelColour() {
        let rows = 221, columns = 221
        let positions: [(Double, Double)] = [(60, 80), (95, 78), (130, 75), (165, 80), (190, 100)]
        let names = ["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
        let input = KeyImageInput(grey: ramp(rows: rows, columns: columns), rows: rows, columns: columns,
                                  points: positions.enumerated().map { (label: names[$0.offset], row: $0.element.0, column: $0.element.1) })
        let out = KeyImageRenderer.render(input)
        let s = out.rows / rows
        XCTAssertEqual(s, 3)
        var seen = Set<Colour>()
        for (k, p) in positions.enumerated() {
            let r = centre(p.0, scale: s), c = centre(p.1, scale: s)
            XCTAssertEqual(pixel(out, r, c), KeyImageRenderer.levelColour(k), "level \(k) centre")
            seen.insert(KeyImageRenderer.levelColour(k))
            // The marker has a dark outline somewhere around it.
            let ring = (-12...12).flatMap { dr in (-12...12).map { dc in pixel(out, r + dr, c + dc) } }
            XCTAssertTrue(ring.contains(KeyImageRenderer.outlineColour), "level \(k) marker has no outline")
            // The label is drawn in the level colour to the right of the marker.
            let right = (r - 8...r + 8).flatMap { rr in (c + 12..<c + 60).map { pixel(out, rr, $0) } }
            XCTAssertGreaterThan(right.filter { $0 == KeyImageRenderer.levelColour(k) }.count, 30, "level \(k) label")
        }
        XCTAssertEqual(seen.count, 5, "level colours are not distinct")
    }

    func testPointLabelFlipsLeftAtTheRightEdge() {
        let input = KeyImageInput(grey: ramp(rows: 256, columns: 256), rows: 256, columns: 256,
                                  points: [(label: "L1/L2", row: 128, column: 250)])
        let out = KeyImageRenderer.render(input)
        let colour = KeyImageRenderer.levelColour(0)
        let r = centre(128, scale: 2), c = centre(250, scale: 2)
        XCTAssertEqual(pixel(out, r, c), colour)
        let left = (r - 8...r + 8).flatMap { rr in (c - 80..<c - 12).map { pixel(out, rr, $0) } }
        XCTAssertGreaterThan(left.filter { $0 == colour }.count, 30)
    }

    func testMissingAndNonFinitePointsAreSkipped() {
        let grey = ramp(rows: 200, columns: 300)
        let plain = KeyImageRenderer.render(KeyImageInput(grey: grey, rows: 200, columns: 300))
        let odd = KeyImageRenderer.render(KeyImageInput(grey: grey, rows: 200, columns: 300, points: [
            nil, (label: "L2/L3", row: .nan, column: 10), (label: "L3/L4", row: 5, column: .infinity),
            (label: "", row: -1e300, column: 1e300), nil,
        ]))
        XCTAssertEqual(plain.rgb, odd.rgb)
        // Points off the image or half off draw what falls inside, without crashing.
        let edge = KeyImageRenderer.render(KeyImageInput(grey: grey, rows: 200, columns: 300, points: [
            (label: "L1/L2", row: -2, column: -2), (label: "L2/L3", row: 199.4, column: 299.4),
            (label: "L3/L4", row: 5000, column: -5000),
        ]))
        XCTAssertEqual(edge.rgb.count, plain.rgb.count)
        XCTAssertEqual(pixel(edge, edge.rows - 1, edge.columns - 1), KeyImageRenderer.levelColour(1), "centre (599, 899)")
    }

    // MARK: Heatmaps

    func testHotSpotTintsItsRegionAndLeavesFarRegionGrey() {
        let rows = 221, columns = 221, grid = 160
        let grey = ramp(rows: rows, columns: columns)
        // One hot spot around grid (40, 104): off the diagonal, so a transposed map would miss it.
        var hot = [Float](repeating: 0, count: grid * grid)
        for r in 36..<44 { for c in 100..<108 { hot[r * grid + c] = 1 } }
        let empty = [Float](repeating: 0.001, count: grid * grid)
        // The hot map is level 2 (L3/L4), so the tint must be that level's colour, not level 0's.
        let input = KeyImageInput(grey: grey, rows: rows, columns: columns,
                                  heatmaps: [empty, empty, hot, empty, empty], gridRows: grid, gridColumns: grid)
        let out = KeyImageRenderer.render(input)
        let plain = KeyImageRenderer.render(KeyImageInput(grey: grey, rows: rows, columns: columns))
        // Grid position g → output g · 663 / 160 (pixel centres aligned, whole slice covered).
        func o(_ g: Double) -> Int { Int((g * Double(out.rows) / Double(grid)).rounded()) }
        let p = pixel(out, o(40), o(104))
        let g = pixel(plain, o(40), o(104))
        XCTAssertFalse(isGrey(p), "hot spot not tinted: \(p)")
        let yellow = KeyImageRenderer.levelColour(2)
        // Alpha 0.6 at p = 1: each channel 60 % of the way from the grey towards the level colour.
        for (v, gv, cv) in [(p.r, g.r, yellow.r), (p.g, g.g, yellow.g), (p.b, g.b, yellow.b)] {
            let expected = Double(gv) + (Double(cv) - Double(gv)) * Double(KeyImageRenderer.heatmapOpacity)
            XCTAssertEqual(Double(v), expected, accuracy: 1.5)
        }
        // The whole spot is tinted, to its edges (grid 36…43 x 100…107).
        for (r, c) in [(36.5, 100.5), (43, 107), (36.5, 107), (43, 100.5)] {
            XCTAssertFalse(isGrey(pixel(out, o(r), o(c))), "spot edge (\(r), \(c)) not tinted")
        }
        // Far away, at the transposed position and just beyond the spot's reach the pixels are
        // exactly the plain render's grey.
        for (r, c) in [(120.0, 120.0), (104, 40), (40, 40), (120, 104), (40, 112), (48, 104)] {
            XCTAssertTrue(isGrey(pixel(out, o(r), o(c))), "pixel at grid (\(r), \(c)) tinted: \(pixel(out, o(r), o(c)))")
            XCTAssertEqual(pixel(out, o(r), o(c)), pixel(plain, o(r), o(c)))
        }
    }

    func testHeatmapProbabilityScalesTheTint() {
        let grid = 16
        let weak = [Float](repeating: 0.25, count: grid * grid), strong = [Float](repeating: 1, count: grid * grid)
        let grey = [UInt8](repeating: 100, count: 64 * 64)
        let a = KeyImageRenderer.render(KeyImageInput(grey: grey, rows: 64, columns: 64, heatmaps: [weak], gridRows: grid, gridColumns: grid))
        let b = KeyImageRenderer.render(KeyImageInput(grey: grey, rows: 64, columns: 64, heatmaps: [strong], gridRows: grid, gridColumns: grid))
        let pa = pixel(a, 256, 256), pb = pixel(b, 256, 256)
        // Blue level 0 (0, 170, 255): blue rises, red falls, more for the stronger map.
        XCTAssertGreaterThan(pa.b, 100); XCTAssertGreaterThan(pb.b, pa.b)
        XCTAssertLessThan(pa.r, 100); XCTAssertLessThan(pb.r, pa.r)
        XCTAssertEqual(Double(pa.b), 100 + 155 * 0.6 * 0.25, accuracy: 1.5)
    }

    func testBadHeatmapsAreSkipped() {
        let grey = ramp(rows: 100, columns: 120)
        let plain = KeyImageRenderer.render(KeyImageInput(grey: grey, rows: 100, columns: 120))
        let bad = KeyImageRenderer.render(KeyImageInput(grey: grey, rows: 100, columns: 120,
                                                        heatmaps: [[], [1, 1, 1], [Float](repeating: 1, count: 10)],
                                                        gridRows: 0, gridColumns: 0))
        XCTAssertEqual(plain.rgb, bad.rgb)
        let mismatched = KeyImageRenderer.render(KeyImageInput(grey: grey, rows: 100, columns: 120,
                                                               heatmaps: [[Float](repeating: 1, count: 15)],
                                                               gridRows: 4, gridColumns: 4))
        XCTAssertEqual(plain.rgb, mismatched.rgb)
        // NaN counts as 0, out-of-range values are clamped: no crash, no tint from NaN, same as p = 1 for 7.
        let nan = KeyImageRenderer.render(KeyImageInput(grey: grey, rows: 100, columns: 120,
                                                        heatmaps: [[Float](repeating: .nan, count: 4)], gridRows: 2, gridColumns: 2))
        XCTAssertEqual(plain.rgb, nan.rgb)
        let big = KeyImageRenderer.render(KeyImageInput(grey: grey, rows: 100, columns: 120,
                                                        heatmaps: [[Float](repeating: 7, count: 4)], gridRows: 2, gridColumns: 2))
        let one = KeyImageRenderer.render(KeyImageInput(grey: grey, rows: 100, columns: 120,
                                                        heatmaps: [[Float](repeating: 1, count: 4)], gridRows: 2, gridColumns: 2))
        XCTAssertEqual(big.rgb, one.rgb)
        XCTAssertNotEqual(plain.rgb, one.rgb)
    }

    // MARK: Size

    func testOutputSizeRules() {
        let cases: [(Int, Int, Int, Int)] = [
            (221, 221, 663, 663),    // small: integer factor 3, ≥ 512
            (256, 256, 512, 512),    // exactly 2x
            (512, 512, 512, 512),    // already large enough: unchanged
            (1024, 768, 1024, 768),
            (300, 500, 600, 1000),   // aspect kept
            (64, 128, 512, 1024),
            (511, 700, 1022, 1400),
        ]
        for (r, c, er, ec) in cases {
            let out = KeyImageRenderer.render(KeyImageInput(grey: ramp(rows: r, columns: c), rows: r, columns: c))
            XCTAssertEqual(out.rows, er, "\(r)x\(c)")
            XCTAssertEqual(out.columns, ec, "\(r)x\(c)")
            XCTAssertEqual(out.rgb.count, er * ec * 3)
            XCTAssertEqual(out.rows * c, out.columns * r, "aspect of \(r)x\(c)")
            XCTAssertGreaterThanOrEqual(min(out.rows, out.columns), 512)
            let g = KeyImageRenderer.outputGeometry(rows: r, columns: c)
            XCTAssertEqual(g.rows, er); XCTAssertEqual(g.columns, ec); XCTAssertEqual(g.scale, er / r)
        }
        // Absurd aspect ratios: the long side is capped rather than allocating gigabytes.
        let thin = KeyImageRenderer.outputGeometry(rows: 1, columns: 10_000)
        XCTAssertLessThanOrEqual(max(thin.rows, thin.columns), 10_000)
        XCTAssertEqual(thin.scale, 1)
        let sliver = KeyImageRenderer.render(KeyImageInput(grey: [UInt8](repeating: 9, count: 3000), rows: 3, columns: 1000))
        XCTAssertEqual(sliver.rows * 1000, sliver.columns * 3)
        XCTAssertLessThanOrEqual(sliver.columns, KeyImageRenderer.maximumLongSide)
    }

    func testUpscaleKeepsThePixelGrid() {
        // A 2x2 checker at 256x256: each source pixel becomes a 2x2 block whose centre value is the source value.
        var grey = [UInt8](repeating: 0, count: 256 * 256)
        grey[128 * 256 + 128] = 200
        let out = KeyImageRenderer.render(KeyImageInput(grey: grey, rows: 256, columns: 256))
        XCTAssertEqual(out.rows, 512)
        // Output (256, 256) samples source (127.75, 127.75) and (257, 257) source (128.25, 128.25):
        // 0.75² · 200 = 112.5 both; (258, 258) samples (128.75, 128.75): 0.25² · 200 = 12.5.
        XCTAssertEqual(Double(pixel(out, 256, 256).r), 112.5, accuracy: 0.6)
        XCTAssertEqual(Double(pixel(out, 257, 257).r), 112.5, accuracy: 0.6)
        XCTAssertEqual(Double(pixel(out, 258, 258).r), 12.5, accuracy: 0.6)
        XCTAssertEqual(Double(pixel(out, 256, 257).r), 112.5, accuracy: 0.6)
        XCTAssertEqual(pixel(out, 300, 300), Colour(0, 0, 0))
        // A short grey buffer is padded with black instead of crashing.
        let short = KeyImageRenderer.render(KeyImageInput(grey: [200, 200], rows: 256, columns: 256))
        XCTAssertEqual(short.rows, 512)
        XCTAssertEqual(pixel(short, 300, 300), Colour(0, 0, 0))
    }

    // MARK: Text

    func testRiskColourFollowsTheRiskWord() {
        XCTAssertEqual(KeyImageRenderer.riskColour("LSTV SUSPICION: HIGH (L5/S1 ENTROPY 6.12)"), KeyImageRenderer.highRiskColour)
        XCTAssertEqual(KeyImageRenderer.riskColour("LSTV suspicion: medium"), KeyImageRenderer.mediumRiskColour)
        XCTAssertEqual(KeyImageRenderer.riskColour("LSTV SUSPICION: LOW (L5/S1 ENTROPY 3.01)"), KeyImageRenderer.lowRiskColour)
        XCTAssertEqual(KeyImageRenderer.riskColour("NOT ASSESSED: WORKFLOW ERROR"), KeyImageRenderer.neutralTextColour, "FLOW is not LOW")
        XCTAssertEqual(KeyImageRenderer.riskColour(""), KeyImageRenderer.neutralTextColour)
    }

    func testRiskAndFooterAreDrawnInTheBottomBand() {
        for (risk, colour) in [("LSTV SUSPICION: HIGH (L5/S1 ENTROPY 6.12)", KeyImageRenderer.highRiskColour),
                               ("LSTV SUSPICION: LOW (L5/S1 ENTROPY 3.20)", KeyImageRenderer.lowRiskColour),
                               ("LSTV SUSPICION: MEDIUM (L5/S1 ENTROPY 4.70)", KeyImageRenderer.mediumRiskColour)] {
            let out = KeyImageRenderer.render(KeyImageInput(grey: ramp(rows: 221, columns: 221), rows: 221, columns: 221,
                                                            riskText: risk, footerText: "LSTV-LOCALIZER 1.0.0  LADDER: CONSISTENT"))
            // The band: rows at the bottom whose first pixel is the band colour.
            var top = out.rows
            while top > 0, pixel(out, top - 1, 0) == KeyImageRenderer.bandColour { top -= 1 }
            XCTAssertLessThan(top, out.rows - 30, "no bottom band")
            XCTAssertGreaterThan(top, out.rows * 3 / 4, "band covers too much")
            var riskPixels = 0, footerPixels = 0, firstRisk = Int.max, lastRisk = 0, firstFooter = Int.max
            for r in top..<out.rows {
                for c in 0..<out.columns {
                    let p = pixel(out, r, c)
                    if p == colour { riskPixels += 1; firstRisk = min(firstRisk, r); lastRisk = max(lastRisk, r) }
                    if p == KeyImageRenderer.footerTextColour { footerPixels += 1; firstFooter = min(firstFooter, r) }
                }
            }
            XCTAssertGreaterThan(riskPixels, 400, risk)
            XCTAssertGreaterThan(footerPixels, 400, risk)
            XCTAssertLessThan(lastRisk, firstFooter, "footer is below the risk line")
        }
    }

    func testCanvasTextIsClippedAtEveryEdge() {
        var canvas = RGBCanvas(rows: 20, columns: 20)
        let white = Colour(255, 255, 255)
        // "HHHH" from x = 17: the first H's columns 0…2 (x 17…19) fit, its columns 3…4 and the rest are clipped.
        canvas.drawText("HHHH", top: 2, left: 17, scale: 1, colour: white)
        XCTAssertEqual(canvas.pixel(2, 17), white)
        XCTAssertEqual(canvas.pixel(8, 17), white)
        XCTAssertEqual(canvas.pixel(5, 19), white, "H's bar")
        XCTAssertEqual(canvas.pixel(2, 18), Colour(0, 0, 0))
        // Clipped, not wrapped: nothing of the H's right side appears at the start of the next rows.
        for r in 0..<20 { for c in 0..<10 { XCTAssertEqual(canvas.pixel(r, c), Colour(0, 0, 0), "wrapped to (\(r), \(c))") } }
        // Half off the top-left corner: H row 3 (the bar) lands on row 0.
        canvas.drawText("H", top: -3, left: -3, scale: 1, colour: white, outline: 1)
        XCTAssertEqual(canvas.pixel(0, 0), white)
        XCTAssertEqual(canvas.pixel(0, 1), white)
        // Far outside, huge scales, extreme coordinates, empty text: nothing drawn, nothing crashes.
        let before = canvas.pixels
        for (t, l) in [(Int.max, 0), (Int.min, 0), (0, Int.max), (0, Int.min), (-1000, 5), (5, 1000), (Int.min, Int.min)] {
            canvas.drawText("NOT FOR DIAGNOSTIC USE", top: t, left: l, scale: 3, colour: white, outline: 2)
        }
        canvas.drawText("", top: 0, left: 0, scale: 1, colour: white)
        XCTAssertEqual(canvas.pixels, before)
        canvas.fill(top: Int.min, left: Int.min, height: Int.max, width: Int.max, colour: white)
        canvas.drawMarker(row: Int.max / 2, column: Int.min / 2, arm: 5, dot: 2, outline: 1, colour: white, outlineColour: white)
    }

    func testLongTextIsClippedNotWrapped() {
        let long = "LSTV SUSPICION: HIGH " + String(repeating: "H", count: 400)
        let out = KeyImageRenderer.render(KeyImageInput(grey: ramp(rows: 221, columns: 221), rows: 221, columns: 221,
                                                        riskText: long, footerText: String(repeating: "% ", count: 1000)))
        XCTAssertEqual(out.rows, 663); XCTAssertEqual(out.columns, 663)
        var top = out.rows
        while top > 0, pixel(out, top - 1, 0) == KeyImageRenderer.bandColour { top -= 1 }
        // Red risk text runs to the right edge (its last 6 columns hold text pixels) …
        let edge = (top..<out.rows).flatMap { r in (out.columns - 6..<out.columns).map { pixel(out, r, $0) } }
        XCTAssertTrue(edge.contains(KeyImageRenderer.highRiskColour))
        // … and stays on one line: two text lines, both within the band, the band still short.
        XCTAssertGreaterThan(top, out.rows * 3 / 4)
        // The banner is unaffected by the long text.
        XCTAssertGreaterThanOrEqual(bannerHeight(out), 14)
    }

    func testFontCoversTheNeededCharacters() {
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 /:.-(),%_+?" {
            XCTAssertTrue(BitmapFont.supported.contains(c), "missing glyph \(c)")
        }
        for c in BitmapFont.supported {
            let g = BitmapFont.glyph(for: c)
            XCTAssertEqual(g.count, BitmapFont.glyphHeight)
            XCTAssertTrue(g.allSatisfy { $0 < 1 << BitmapFont.glyphWidth }, "glyph \(c) wider than the cell")
            if c != " " { XCTAssertTrue(g.contains { $0 != 0 }, "glyph \(c) is blank") }
        }
        // Distinct letters and digits (no copy-paste glyphs).
        let alnum = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        XCTAssertEqual(Set(alnum.map { BitmapFont.glyph(for: $0) }).count, alnum.count)
        XCTAssertEqual(BitmapFont.glyph(for: "l"), BitmapFont.glyph(for: "L"))
        XCTAssertEqual(BitmapFont.glyph(for: "€"), BitmapFont.glyph(for: "?"))
        XCTAssertEqual(BitmapFont.glyph(for: "ß"), BitmapFont.glyph(for: "?"))
        XCTAssertEqual(BitmapFont.width(of: ""), 0)
        XCTAssertEqual(BitmapFont.width(of: "L5/S1"), 29)
        XCTAssertTrue(BitmapFont.isSet("L", x: 0, y: 6))
        XCTAssertFalse(BitmapFont.isSet("L", x: 4, y: 0))
        XCTAssertFalse(BitmapFont.isSet("L", x: 9, y: -1))
    }

    // MARK: Determinism and a sample to look at

    func sampleInput() -> KeyImageInput {
        let rows = 221, columns = 221, grid = 160
        var grey = [UInt8](repeating: 0, count: rows * columns)
        for r in 0..<rows { for c in 0..<columns {   // a "spine" of bright discs on a dark background
            let disc = (r % 36) < 6 && c > 60 && c < 100
            grey[r * columns + c] = disc ? 200 : UInt8(30 + (r * 7 + c * 3) % 40)
        } }
        let names = ["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
        let centres: [(Double, Double)] = (0..<5).map { (Double(38 + 36 * $0), 80) }
        let maps: [[Float]] = centres.enumerated().map { k, p in
            let gy = (p.0 + 0.5) * Double(grid) / Double(rows) - 0.5, gx = (p.1 + 0.5) * Double(grid) / Double(columns) - 0.5
            let sigma = k == 4 ? 6.0 : 3.0, peak = k == 4 ? 0.45 : 0.95
            return (0..<grid * grid).map { i in
                let dy = Double(i / grid) - gy, dx = (Double(i % grid) - gx) / 2
                return Float(peak * exp(-(dy * dy + dx * dx) / (2 * sigma * sigma)))
            }
        }
        return KeyImageInput(grey: grey, rows: rows, columns: columns, heatmaps: maps, gridRows: grid, gridColumns: grid,
                             points: centres.enumerated().map { k, p in k == 3 ? nil : (label: names[k], row: p.0, column: p.1) },
                             riskText: "LSTV SUSPICION: HIGH (L5/S1 ENTROPY 6.12)",
                             footerText: "LSTV-LOCALIZER 1.0.0  LADDER: CONSISTENT")
    }

    func testSameInputGivesTheSameBytes() {
        let a = KeyImageRenderer.render(sampleInput()), b = KeyImageRenderer.render(sampleInput())
        XCTAssertEqual(a.rows, b.rows); XCTAssertEqual(a.columns, b.columns)
        XCTAssertEqual(a.rgb, b.rgb)
        var changed = sampleInput(); changed.riskText = "LSTV SUSPICION: LOW (L5/S1 ENTROPY 3.00)"
        XCTAssertNotEqual(KeyImageRenderer.render(changed).rgb, a.rgb)
    }
}

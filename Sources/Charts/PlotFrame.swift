/// The frame of a chart: the plot area inside the margins, the axes, the title, the legend, and the
/// root element that holds them. Charts draw their data inside `plot` and hand it back to `svg`.
struct PlotFrame {
    let layout: ChartLayout
    /// The plot area in pixels.
    let left: Double, top: Double, right: Double, bottom: Double

    init(_ layout: ChartLayout) {
        self.layout = layout
        left = 52
        right = layout.width - 14
        top = layout.title.isEmpty ? 12 : 28
        bottom = layout.height - (layout.xLabel.isEmpty ? 24 : 40)
    }

    var xRange: ClosedRange<Double> { left...right }
    var yRange: ClosedRange<Double> { top...bottom }

    func xScale(_ domain: ClosedRange<Double>) -> LinearScale { LinearScale(domain: domain, range: xRange) }
    func yScale(_ domain: ClosedRange<Double>) -> LinearScale { LinearScale(domain: domain, range: yRange, inverted: true) }

    /// The whole chart. `body` is the data's markup, drawn over the grid and under the legend.
    func svg(axes: String, body: String, legend: [LegendEntry] = [], legendCorner: LegendCorner = .topRight, empty: Bool = false) -> String {
        var s = SVG.element("title", [], SVG.escape(layout.title))
        s += SVG.rect(x: 0, y: 0, width: layout.width, height: layout.height, className: "background", fill: .white)
        if !layout.title.isEmpty {
            s += SVG.text(layout.title, x: layout.width / 2, y: 17, anchor: .middle, className: "chart-title",
                          attributes: [("font-weight", "bold"), ("font-size", "12")])
        }
        s += axes + body
        if empty {
            s += SVG.text("no data", x: (left + right) / 2, y: (top + bottom) / 2, anchor: .middle, className: "empty",
                          attributes: [("fill", ChartColour.grey.css)])
        }
        s += legendMarkup(legend, corner: legendCorner)
        return SVG.element("svg", [("class", "chart"), ("role", "img"), ("aria-label", layout.title),
                                   ("width", SVG.number(layout.width)), ("height", SVG.number(layout.height)),
                                   ("viewBox", "0 0 \(SVG.number(layout.width)) \(SVG.number(layout.height))"),
                                   ("font-family", "sans-serif"), ("font-size", "11")], s)
    }

    func numericXAxis(_ x: LinearScale) -> String {
        var s = SVG.line(x1: left, y1: bottom, x2: right, y2: bottom, className: "axis", stroke: .darkGrey)
        for t in x.ticks() {
            s += SVG.line(x1: x(t), y1: bottom, x2: x(t), y2: bottom + 4, className: "tick", stroke: .darkGrey)
            s += SVG.text(x.tickLabel(t), x: x(t), y: bottom + 15, anchor: .middle, className: "tick-label")
        }
        return s + xLabel()
    }

    /// The y axis with horizontal grid lines at its ticks.
    func numericYAxis(_ y: LinearScale) -> String {
        var s = SVG.line(x1: left, y1: top, x2: left, y2: bottom, className: "axis", stroke: .darkGrey)
        for t in y.ticks() {
            s += SVG.line(x1: left, y1: y(t), x2: right, y2: y(t), className: "grid", stroke: .lightGrey)
            s += SVG.text(y.tickLabel(t), x: left - 5, y: y(t) + 4, anchor: .end, className: "tick-label")
        }
        if !layout.yLabel.isEmpty {
            let cx = 13.0, cy = (top + bottom) / 2
            s += SVG.text(layout.yLabel, x: cx, y: cy, anchor: .middle, className: "axis-label",
                          attributes: [("transform", "rotate(-90 \(SVG.number(cx)) \(SVG.number(cy)))")])
        }
        return s
    }

    /// Category names under `centres`.
    func categoryXAxis(_ labels: [String], centres: [Double]) -> String {
        var s = SVG.line(x1: left, y1: bottom, x2: right, y2: bottom, className: "axis", stroke: .darkGrey)
        for (label, c) in zip(labels, centres) {
            s += SVG.text(label, x: c, y: bottom + 15, anchor: .middle, className: "tick-label")
        }
        return s + xLabel()
    }

    private func xLabel() -> String {
        layout.xLabel.isEmpty ? "" : SVG.text(layout.xLabel, x: (left + right) / 2, y: layout.height - 8, anchor: .middle,
                                              className: "axis-label")
    }

    /// Reference lines inside the plot area (those outside the domain are left out), labelled at their end.
    func referenceLines(_ lines: [ReferenceLine], x: LinearScale, y: LinearScale) -> String {
        lines.map { r -> String in
            switch r.orientation {
            case .horizontal:
                guard y.domain.contains(r.value) else { return "" }
                return SVG.line(x1: left, y1: y(r.value), x2: right, y2: y(r.value), className: "reference", stroke: r.colour,
                                width: 1.5, dashed: true)
                    + SVG.text(r.label, x: right - 3, y: y(r.value) - 3, anchor: .end, className: "reference-label",
                               attributes: [("fill", r.colour.css)])
            case .vertical:
                guard x.domain.contains(r.value) else { return "" }
                // Labelled on the side with more room, so a line near the right edge keeps its label.
                let rightHalf = x(r.value) > (left + right) / 2
                return SVG.line(x1: x(r.value), y1: top, x2: x(r.value), y2: bottom, className: "reference", stroke: r.colour,
                                width: 1.5, dashed: true)
                    + SVG.text(r.label, x: x(r.value) + (rightHalf ? -3 : 3), y: top + 10, anchor: rightHalf ? .end : .start,
                               className: "reference-label", attributes: [("fill", r.colour.css)])
            }
        }.joined()
    }

    private func legendMarkup(_ entries: [LegendEntry], corner: LegendCorner) -> String {
        guard !entries.isEmpty else { return "" }
        // 7 px per character is a safe width at 11 px.
        let width = Double(entries.map(\.label.count).max() ?? 0) * 7 + 22, height = Double(entries.count) * 15 + 6
        let x = right - width - 4, y = corner == .topRight ? top + 4 : bottom - height - 4
        var s = SVG.rect(x: x, y: y, width: width, height: height, className: "legend", fill: .white, stroke: .lightGrey)
        for (i, e) in entries.enumerated() {
            let rowY = y + 6 + Double(i) * 15
            s += SVG.rect(x: x + 5, y: rowY + 1, width: 10, height: 10, className: "swatch", fill: e.colour)
            s += SVG.text(e.label, x: x + 19, y: rowY + 10, className: "legend-label")
        }
        return s
    }
}

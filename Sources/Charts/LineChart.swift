/// Curves through points (drawn in the order given) with marked points: ROC and PR curves,
/// operating points, a chance line.
public struct LineChart: Sendable {
    public struct Curve: Sendable {
        public var name: String
        public var points: [ChartPoint]
        public var colour: ChartColour
        public var dashed: Bool
        public init(_ name: String, points: [ChartPoint], colour: ChartColour = .blue, dashed: Bool = false) {
            self.name = name; self.points = points; self.colour = colour; self.dashed = dashed
        }
    }

    public struct Marker: Sendable {
        public var position: ChartPoint
        public var label: String
        public var colour: ChartColour
        public init(_ position: ChartPoint, label: String, colour: ChartColour = .red) {
            self.position = position; self.label = label; self.colour = colour
        }
    }

    public var curves: [Curve]
    public var markers: [Marker]
    public var xDomain: ClosedRange<Double>?
    public var yDomain: ClosedRange<Double>?
    public var legendCorner: LegendCorner = .topRight
    public var layout: ChartLayout

    public init(curves: [Curve], markers: [Marker] = [], xDomain: ClosedRange<Double>? = nil, yDomain: ClosedRange<Double>? = nil,
                layout: ChartLayout) {
        self.curves = curves; self.markers = markers; self.xDomain = xDomain; self.yDomain = yDomain; self.layout = layout
    }

    public func svg() -> String {
        let frame = PlotFrame(layout)
        let all = curves.flatMap(\.points) + markers.map(\.position)
        let x = frame.xScale(xDomain ?? LinearScale.extent(all.map(\.x)) ?? 0...1)
        let y = frame.yScale(yDomain ?? LinearScale.extent(all.map(\.y)) ?? 0...1)
        var body = ""
        for c in curves {
            let pts = c.points.filter { $0.x.isFinite && $0.y.isFinite }
            guard !pts.isEmpty else { continue }
            let d = pts.enumerated().map { i, p in "\(i == 0 ? "M" : "L")\(SVG.number(x(p.x))) \(SVG.number(y(p.y)))" }.joined(separator: " ")
            var a = [("class", "curve"), ("d", d), ("fill", "none"), ("stroke", c.colour.css), ("stroke-width", c.dashed ? "1" : "2")]
            if c.dashed { a.append(("stroke-dasharray", "4 3")) }
            body += SVG.element("path", a, c.name.isEmpty ? nil : SVG.element("title", [], SVG.escape(c.name)))
        }
        for m in markers where m.position.x.isFinite && m.position.y.isFinite {
            body += SVG.circle(x: x(m.position.x), y: y(m.position.y), radius: 5, className: "marker", fill: m.colour, tooltip: m.label)
            // Labels go towards the middle of the plot, so they stay inside it and clear of the axes.
            let rightHalf = x(m.position.x) > (frame.left + frame.right) / 2
            let lowerHalf = y(m.position.y) > (frame.top + frame.bottom) / 2
            body += SVG.text(m.label, x: x(m.position.x) + (rightHalf ? -8 : 8), y: y(m.position.y) + (lowerHalf ? -8 : 16),
                             anchor: rightHalf ? .end : .start, className: "marker-label", attributes: [("fill", m.colour.css)])
        }
        let legend = curves.filter { !$0.name.isEmpty }.map { LegendEntry($0.name, $0.colour) }
        return frame.svg(axes: frame.numericXAxis(x) + frame.numericYAxis(y), body: body, legend: legend, legendCorner: legendCorner,
                         empty: !all.contains { $0.x.isFinite && $0.y.isFinite })
    }
}

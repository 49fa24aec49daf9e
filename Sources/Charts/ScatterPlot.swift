/// A point in data coordinates.
public struct ChartPoint: Sendable, Equatable {
    public var x: Double, y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

/// Points (each with its colour and tooltip) and reference lines.
public struct ScatterPlot: Sendable {
    public struct Point: Sendable {
        public var position: ChartPoint
        public var colour: ChartColour
        public var tooltip: String?
        public init(x: Double, y: Double, colour: ChartColour = .blue, tooltip: String? = nil) {
            position = ChartPoint(x, y); self.colour = colour; self.tooltip = tooltip
        }
    }

    public var points: [Point]
    public var referenceLines: [ReferenceLine]
    public var legend: [LegendEntry]
    public var xDomain: ClosedRange<Double>?
    public var yDomain: ClosedRange<Double>?
    public var legendCorner: LegendCorner = .topRight
    public var layout: ChartLayout

    public init(points: [Point], referenceLines: [ReferenceLine] = [], legend: [LegendEntry] = [],
                xDomain: ClosedRange<Double>? = nil, yDomain: ClosedRange<Double>? = nil, layout: ChartLayout) {
        self.points = points; self.referenceLines = referenceLines; self.legend = legend
        self.xDomain = xDomain; self.yDomain = yDomain; self.layout = layout
    }

    public func svg() -> String {
        let frame = PlotFrame(layout)
        let shown = points.filter { $0.position.x.isFinite && $0.position.y.isFinite }
        // The domains take in the reference lines, so a threshold beyond every point still shows.
        let x = frame.xScale(xDomain ?? LinearScale.extent(shown.map(\.position.x)
            + referenceLines.filter { $0.orientation == .vertical }.map(\.value), padding: 0.05) ?? 0...1)
        let y = frame.yScale(yDomain ?? LinearScale.extent(shown.map(\.position.y)
            + referenceLines.filter { $0.orientation == .horizontal }.map(\.value), padding: 0.05) ?? 0...1)
        var body = frame.referenceLines(referenceLines, x: x, y: y)
        for p in shown {
            body += SVG.circle(x: x(p.position.x), y: y(p.position.y), radius: 3.5, className: "point", fill: p.colour,
                               tooltip: p.tooltip)
        }
        return frame.svg(axes: frame.numericXAxis(x) + frame.numericYAxis(y), body: body, legend: legend, legendCorner: legendCorner,
                         empty: shown.isEmpty)
    }
}

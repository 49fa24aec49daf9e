/// One bar per category, its value written above it.
public struct BarChart: Sendable {
    public struct Bar: Sendable {
        public var label: String
        public var value: Double
        public var colour: ChartColour
        public init(_ label: String, _ value: Double, colour: ChartColour = .blue) {
            self.label = label; self.value = value; self.colour = colour
        }
    }

    public var bars: [Bar]
    public var layout: ChartLayout

    public init(bars: [Bar], layout: ChartLayout) { self.bars = bars; self.layout = layout }

    public func svg() -> String {
        let frame = PlotFrame(layout)
        let top = bars.map(\.value).filter(\.isFinite).max() ?? 0
        // Room above the tallest bar for its value; at least 0…5 so counts get whole-number ticks.
        let y = frame.yScale(0...max(top * 1.15, 5))
        let slot = (frame.right - frame.left) / Double(max(1, bars.count))
        let centres = bars.indices.map { frame.left + slot * (Double($0) + 0.5) }
        var body = ""
        for (b, cx) in zip(bars, centres) {
            let v = b.value.isFinite ? max(0, b.value) : 0
            body += SVG.rect(x: cx - slot * 0.35, y: y(v), width: slot * 0.7, height: y(0) - y(v), className: "bar", fill: b.colour,
                             tooltip: "\(b.label): \(Self.format(b.value))")
            body += SVG.text(Self.format(b.value), x: cx, y: y(v) - 4, anchor: .middle, className: "value-label")
        }
        return frame.svg(axes: frame.categoryXAxis(bars.map(\.label), centres: centres) + frame.numericYAxis(y), body: body,
                         empty: bars.isEmpty)
    }

    static func format(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : SVG.number(v) }
}

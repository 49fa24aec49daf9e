/// One box per group: quartiles, median, whiskers to the furthest value within 1.5 IQR of the box
/// (Tukey), the values beyond as single points.
public struct BoxPlot: Sendable {
    public struct Group: Sendable {
        public var label: String
        public var values: [Double]
        public init(_ label: String, _ values: [Double]) { self.label = label; self.values = values }
    }

    public struct Summary: Sendable, Equatable {
        public var lowerWhisker: Double, q1: Double, median: Double, q3: Double, upperWhisker: Double
        public var outliers: [Double]
    }

    public var groups: [Group]
    /// The value axis; nil: the values' own.
    public var domain: ClosedRange<Double>?
    public var colour: ChartColour
    public var layout: ChartLayout

    public init(groups: [Group], domain: ClosedRange<Double>? = nil, colour: ChartColour = .blue, layout: ChartLayout) {
        self.groups = groups; self.domain = domain; self.colour = colour; self.layout = layout
    }

    /// Nil without a finite value. Quartiles interpolate linearly between order statistics.
    public static func summary(_ values: [Double]) -> Summary? {
        let v = values.filter(\.isFinite).sorted()
        guard !v.isEmpty else { return nil }
        func quantile(_ p: Double) -> Double {
            let h = p * Double(v.count - 1), i = Int(h.rounded(.down))
            return i + 1 < v.count ? v[i] + (h - Double(i)) * (v[i + 1] - v[i]) : v[i]
        }
        let q1 = quantile(0.25), q3 = quantile(0.75), fence = 1.5 * (q3 - q1)
        let inside = v.filter { $0 >= q1 - fence && $0 <= q3 + fence }
        return Summary(lowerWhisker: inside.first ?? q1, q1: q1, median: quantile(0.5), q3: q3, upperWhisker: inside.last ?? q3,
                       outliers: v.filter { $0 < q1 - fence || $0 > q3 + fence })
    }

    public func svg() -> String {
        let frame = PlotFrame(layout)
        let all = groups.flatMap(\.values)
        let y = frame.yScale(domain ?? LinearScale.extent(all, padding: 0.05) ?? 0...1)
        let slot = (frame.right - frame.left) / Double(max(1, groups.count))
        let centres = groups.indices.map { frame.left + slot * (Double($0) + 0.5) }
        let half = min(24, slot * 0.3)
        var body = ""
        for (g, cx) in zip(groups, centres) {
            guard let s = Self.summary(g.values) else { continue }
            let tip = "\(g.label): median \(y.tickLabel(s.median)), quartiles \(y.tickLabel(s.q1))–\(y.tickLabel(s.q3)), n=\(g.values.count)"
            body += SVG.line(x1: cx, y1: y(s.lowerWhisker), x2: cx, y2: y(s.q1), className: "whisker", stroke: .darkGrey)
            body += SVG.line(x1: cx, y1: y(s.q3), x2: cx, y2: y(s.upperWhisker), className: "whisker", stroke: .darkGrey)
            for w in [s.lowerWhisker, s.upperWhisker] {
                body += SVG.line(x1: cx - half / 2, y1: y(w), x2: cx + half / 2, y2: y(w), className: "whisker-cap", stroke: .darkGrey)
            }
            // At least 3 px tall: a box of one value (or equal quartiles) still shows.
            let boxTop = min(y(s.q3), y(s.median) - 1.5), boxBottom = max(y(s.q1), y(s.median) + 1.5)
            body += SVG.rect(x: cx - half, y: boxTop, width: 2 * half, height: boxBottom - boxTop, className: "box", fill: colour,
                             stroke: .darkGrey, tooltip: tip)
            body += SVG.line(x1: cx - half, y1: y(s.median), x2: cx + half, y2: y(s.median), className: "median", stroke: .white,
                             width: 2)
            for o in s.outliers {
                body += SVG.circle(x: cx, y: y(o), radius: 2.5, className: "outlier", fill: .darkGrey, tooltip: "\(g.label): \(o)")
            }
        }
        return frame.svg(axes: frame.categoryXAxis(groups.map(\.label), centres: centres) + frame.numericYAxis(y), body: body,
                         empty: !all.contains(where: \.isFinite))
    }
}

/// Counts of values in equal-width bins, as bars, with optional reference lines (thresholds).
public struct Histogram: Sendable {
    public var values: [Double]
    public var bins: Int
    /// The binned range; nil: the values' own (with the reference lines). Give several histograms
    /// one domain to make them comparable.
    public var domain: ClosedRange<Double>?
    public var referenceLines: [ReferenceLine]
    public var colour: ChartColour
    public var layout: ChartLayout

    public init(values: [Double], bins: Int = 20, domain: ClosedRange<Double>? = nil, referenceLines: [ReferenceLine] = [],
                colour: ChartColour = .blue, layout: ChartLayout) {
        self.values = values; self.bins = max(1, bins); self.domain = domain; self.referenceLines = referenceLines
        self.colour = colour; self.layout = layout
    }

    /// Counts per bin over `domain` (bins closed on the left; the last also on the right). A value
    /// outside the domain counts in the nearest end bin, so none is silently lost; non-finite values
    /// are not counted.
    public static func counts(_ values: [Double], bins: Int, domain: ClosedRange<Double>) -> [Int] {
        var counts = [Int](repeating: 0, count: max(1, bins))
        let width = domain.upperBound - domain.lowerBound
        for v in values where v.isFinite {
            let i = width > 0 ? Int(((v - domain.lowerBound) / width * Double(counts.count)).rounded(.down)) : 0
            counts[min(counts.count - 1, max(0, i))] += 1
        }
        return counts
    }

    public func svg() -> String {
        let frame = PlotFrame(layout)
        let finite = values.filter(\.isFinite)
        let range = domain ?? LinearScale.extent(finite + referenceLines.map(\.value), padding: 0.05) ?? 0...1
        let x = frame.xScale(range)
        let counts = Self.counts(finite, bins: bins, domain: x.domain)
        let y = frame.yScale(0...Double(max(counts.max() ?? 0, 5)))
        let step = (x.domain.upperBound - x.domain.lowerBound) / Double(counts.count)
        var body = ""
        for (i, n) in counts.enumerated() {
            let lo = x.domain.lowerBound + Double(i) * step, hi = lo + step
            body += SVG.rect(x: x(lo) + 0.5, y: y(Double(n)), width: x(hi) - x(lo) - 1, height: y(0) - y(Double(n)),
                             className: "bar", fill: colour,
                             tooltip: "\(x.tickLabel(lo, count: counts.count))–\(x.tickLabel(hi, count: counts.count)): \(n)")
        }
        body += frame.referenceLines(referenceLines, x: x, y: y)
        return frame.svg(axes: frame.numericXAxis(x) + frame.numericYAxis(y), body: body, empty: finite.isEmpty)
    }
}

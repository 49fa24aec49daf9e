/// What every chart has around its data: a size in pixels, a title and the axes' names.
public struct ChartLayout: Sendable {
    public var width: Double
    public var height: Double
    public var title: String
    public var xLabel: String
    public var yLabel: String

    public init(width: Double = 360, height: Double = 240, title: String, xLabel: String = "", yLabel: String = "") {
        self.width = width; self.height = height; self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
    }
}

/// A line across the plot at a data value, with a label: a threshold, a reference value.
public struct ReferenceLine: Sendable {
    public enum Orientation: Sendable {
        /// At a y value, across the whole width.
        case horizontal
        /// At an x value, across the whole height.
        case vertical
    }

    public var orientation: Orientation
    public var value: Double
    public var label: String
    public var colour: ChartColour

    public init(_ orientation: Orientation, at value: Double, label: String, colour: ChartColour = .red) {
        self.orientation = orientation; self.value = value; self.label = label; self.colour = colour
    }
}

/// One entry of a chart's legend.
public struct LegendEntry: Sendable {
    public var label: String
    public var colour: ChartColour
    public init(_ label: String, _ colour: ChartColour) { self.label = label; self.colour = colour }
}

/// Where a legend sits inside the plot area: the corner the data leave free.
public enum LegendCorner: Sendable {
    case topRight, bottomRight
}

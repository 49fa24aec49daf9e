/// A colour as a CSS hex literal. Only built from the palette or from validated hex text, so it
/// never needs escaping and never refers to anything outside the chart.
public struct ChartColour: Sendable, Equatable {
    public let css: String

    /// `#rgb` or `#rrggbb`; nil for anything else.
    public init?(hex: String) {
        let digits = hex.dropFirst()
        guard hex.first == "#", digits.count == 3 || digits.count == 6, digits.allSatisfy(\.isHexDigit) else { return nil }
        css = hex
    }

    private init(_ css: String) { self.css = css }

    public static let blue = ChartColour("#3b6ea8")
    public static let orange = ChartColour("#d9822b")
    public static let green = ChartColour("#2e9e5b")
    public static let amber = ChartColour("#e0a100")
    public static let red = ChartColour("#c8372d")
    public static let purple = ChartColour("#7a4fa3")
    public static let grey = ChartColour("#888888")
    public static let darkGrey = ChartColour("#444444")
    public static let lightGrey = ChartColour("#dddddd")
    public static let white = ChartColour("#ffffff")

    /// Distinct colours for a chart's series, in order.
    public static let series: [ChartColour] = [.blue, .orange, .green, .purple, .red]
}

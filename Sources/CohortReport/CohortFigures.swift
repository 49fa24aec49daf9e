import Analysis
import Charts
import Cohort

/// The report's charts of the cohort (sections 1–5), as SVG markup.
enum CohortFigures {
    /// Five small charts fit across a 1400-pixel window.
    static let small = (width: 240.0, height: 210.0)
    static let medium = (width: 340.0, height: 300.0)
    static let wide = (width: 460.0, height: 300.0)

    static func riskBars(_ summary: CohortSummary) -> String {
        BarChart(bars: Risk.allCases.map { BarChart.Bar($0.rawValue, Double(summary.count($0)), colour: $0.chartColour) },
                 layout: ChartLayout(width: small.width, height: small.height, title: "Series by risk", yLabel: "series")).svg()
    }

    /// One histogram per level over one shared range and bin width, so the levels compare at a glance.
    static func entropyHistograms(_ cases: [CohortCase]) -> [(level: LevelName, svg: String)] {
        let all = LevelName.allCases.flatMap { LevelMetric.entropy.values(cases, at: $0) }
        let lo = all.filter(\.isFinite).min() ?? 0, hi = all.filter(\.isFinite).max() ?? 1
        return LevelName.allCases.map { level in
            (level, Histogram(values: LevelMetric.entropy.values(cases, at: level), bins: 16, domain: lo...max(hi, lo + 1e-6),
                              layout: ChartLayout(width: small.width, height: small.height, title: "\(level.displayName) entropy",
                                                  xLabel: "entropy (nats)", yLabel: "series")).svg())
        }
    }

    static func confidenceBoxPlot(_ cases: [CohortCase]) -> String {
        BoxPlot(groups: LevelName.allCases.map { BoxPlot.Group($0.displayName, LevelMetric.confidence.values(cases, at: $0)) },
                layout: ChartLayout(width: wide.width, height: wide.height, title: "Peak confidence by level",
                                    xLabel: "level", yLabel: "peak confidence")).svg()
    }

    static func l5s1ConfidenceScatter(_ cases: [CohortCase]) -> String {
        ScatterPlot(points: cases.compactMap { c in
            c.flags.levels[LevelName.l5_s1.rawValue].map {
                ScatterPlot.Point(x: $0.entropy, y: $0.confidence, colour: c.riskColour, tooltip: c.pointTooltip)
            }
        }, legend: riskLegend, layout: ChartLayout(width: wide.width, height: wide.height, title: "L5/S1 confidence against entropy",
                                                   xLabel: "L5/S1 entropy (nats)", yLabel: "L5/S1 peak confidence")).svg()
    }

    /// The thresholds are on `lstv_suspicion`, so they are drawn here, not on the entropy plot.
    static func suspicionScatter(_ cases: [CohortCase], thresholds: RiskThresholds?) -> String {
        ScatterPlot(points: cases.compactMap { c in
            c.flags.levels[LevelName.l5_s1.rawValue].map {
                ScatterPlot.Point(x: $0.entropy, y: c.flags.lstvSuspicion, colour: c.riskColour, tooltip: c.pointTooltip)
            }
        }, referenceLines: thresholdLines(thresholds, .horizontal),
        layout: ChartLayout(width: medium.width, height: medium.height, title: "lstv_suspicion against L5/S1 entropy",
                            xLabel: "L5/S1 entropy (nats)", yLabel: "lstv_suspicion")).svg()
    }

    static func suspicionHistogram(_ cases: [CohortCase], thresholds: RiskThresholds?) -> String {
        Histogram(values: cases.map(\.flags.lstvSuspicion), bins: 20, referenceLines: thresholdLines(thresholds, .vertical),
                  layout: ChartLayout(width: wide.width, height: wide.height, title: "lstv_suspicion",
                                      xLabel: "lstv_suspicion", yLabel: "series")).svg()
    }

    static func lumbarCountBars(_ summary: CohortSummary) -> String {
        BarChart(bars: LumbarCountClass.allCases.map { BarChart.Bar($0.label, Double(summary.lumbarCounts[$0] ?? 0),
                                                                    colour: $0.chartColour) },
                 layout: ChartLayout(width: medium.width, height: medium.height, title: "Lumbar count",
                                     xLabel: "mobile lumbar vertebrae", yLabel: "series")).svg()
    }

    static func thresholdLines(_ t: RiskThresholds?, _ orientation: ReferenceLine.Orientation) -> [ReferenceLine] {
        guard let t else { return [] }
        return [ReferenceLine(orientation, at: t.high, label: "high > \(format(t.high))", colour: Risk.high.chartColour),
                ReferenceLine(orientation, at: t.medium, label: "medium ≥ \(format(t.medium))", colour: Risk.medium.chartColour)]
    }

    static let riskLegend = Risk.allCases.map { LegendEntry($0.rawValue, $0.chartColour) }

    static func format(_ v: Double) -> String { String(format: "%.2f", v) }
}

extension Risk {
    var chartColour: ChartColour {
        switch self {
        case .low: return .green
        case .medium: return .amber
        case .high: return .red
        }
    }
}

extension LumbarCountClass {
    /// The usual count plain, the transitional ones marked, undetermined neutral.
    var chartColour: ChartColour {
        switch self {
        case .five: return .blue
        case .four, .six: return .orange
        case .undetermined: return .grey
        }
    }
}

extension CohortCase {
    var riskColour: ChartColour { Risk(rawValue: flags.risk)?.chartColour ?? .grey }
    var pointTooltip: String {
        "\(accessionNumber ?? seriesInstanceUID): \(flags.risk), suspicion \(CohortFigures.format(flags.lstvSuspicion))"
    }
}

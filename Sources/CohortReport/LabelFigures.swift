import Charts

/// The ROC and precision-recall charts of section 8, with the operating point marked.
enum LabelFigures {
    static func roc(_ points: [ROCPoint], auc: Double, at op: OperatingPoint?) -> String {
        let curve = points.map { ChartPoint($0.falsePositiveRate, $0.truePositiveRate) }
        return chart(reference: LineChart.Curve("chance", points: [ChartPoint(0, 0), ChartPoint(1, 1)], colour: .grey, dashed: true),
                     curve: LineChart.Curve(String(format: "AUC %.3f", auc), points: curve),
                     marker: op.flatMap { op in op.falsePositiveRate.flatMap { x in op.sensitivity.map { (ChartPoint(x, $0), op) } } },
                     legendCorner: .bottomRight,
                     layout: ChartLayout(title: "ROC of lstv_suspicion", xLabel: "false positive rate (1 − specificity)",
                                         yLabel: "true positive rate (sensitivity)"))
    }

    static func precisionRecall(_ points: [PRPoint], averagePrecision: Double, prevalence: Double, at op: OperatingPoint?) -> String {
        let curve = points.map { ChartPoint($0.recall, $0.precision) }
        let chance = [ChartPoint(0, prevalence), ChartPoint(1, prevalence)]
        return chart(reference: LineChart.Curve("prevalence", points: chance, colour: .grey, dashed: true),
                     curve: LineChart.Curve(String(format: "AP %.3f", averagePrecision), points: curve),
                     marker: op.flatMap { op in op.sensitivity.flatMap { x in op.ppv.map { (ChartPoint(x, $0), op) } } },
                     legendCorner: .topRight,
                     layout: ChartLayout(title: "Precision–recall of lstv_suspicion", xLabel: "recall (sensitivity)",
                                         yLabel: "precision (PPV)"))
    }

    /// A curve over its reference line (chance, prevalence) on the unit square, the operating point
    /// marked when the rates it needs are defined.
    static func chart(reference: LineChart.Curve, curve: LineChart.Curve, marker: (ChartPoint, OperatingPoint)?,
                      legendCorner: LegendCorner, layout: ChartLayout) -> String {
        var layout = layout
        layout.width = 360
        layout.height = 300
        let markers = marker.map { [LineChart.Marker($0.0, label: "high > \(CohortFigures.format($0.1.threshold))")] } ?? []
        var chart = LineChart(curves: [reference, curve], markers: markers, xDomain: 0...1, yDomain: 0...1, layout: layout)
        chart.legendCorner = legendCorner
        return chart.svg()
    }
}

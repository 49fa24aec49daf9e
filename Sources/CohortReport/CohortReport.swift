import Analysis
import Cohort
import Foundation
import Mustache

/// The cohort report: one self-contained HTML page about a set of analysed series (what the node
/// flagged, how the levels' figures are distributed, the series to look at first, and — with
/// labels — how well `lstv_suspicion` separates the labelled cases).
public struct CohortReport {
    public var cases: [CohortCase]
    /// Series the source could not analyse (analyze output's failed entries).
    public var failed: Int
    /// Where the cohort came from, as the page names it (a file, a redacted database URL).
    public var source: String
    public var labels: Labels?
    /// Rows of the top-candidates table.
    public var candidateLimit = 20

    public init(cases: [CohortCase], failed: Int = 0, source: String, labels: Labels? = nil) {
        self.cases = cases; self.failed = failed; self.source = source; self.labels = labels
    }

    /// The page, and what a reader of the command's output should know (thumbnails that could not
    /// be read, labels that matched nothing); those are on the page too.
    public func render(generatedAt: Date = Date()) throws -> (html: String, warnings: [String]) {
        let summary = CohortSummary(cases: cases, failed: failed)
        var notes: [String] = []
        if summary.casesWithOtherThresholds > 0 {
            notes.append("\(summary.casesWithOtherThresholds) series were classed with other risk thresholds than those drawn "
                         + "(another model or configuration).")
        }
        let candidates = Candidates.top(cases, count: candidateLimit).enumerated().map { i, c -> ReportPage.Candidate in
            var thumbnail: String?
            if let path = c.keyImagePath {
                do { thumbnail = try KeyImageThumbnail.dataURI(path: path) } catch {
                    notes.append("Key image of series \(c.seriesInstanceUID) not shown: \(error)")
                }
            }
            return candidateRow(c, rank: i + 1, thumbnail: thumbnail)
        }
        let labelSection = labels.map { labelPerformance($0, thresholds: summary.thresholds) }
        if let l = labelSection, l.matched == 0 { notes.append("No labelled series: the labels' \(l.key) values match no series.") }

        let page = ReportPage(
            title: "LSTV cohort report", generatedAt: ISO8601DateFormatter().string(from: generatedAt), source: source,
            analysed: summary.analysed, failed: summary.failed > 0 ? summary.failed : nil, models: modelNames,
            thresholds: thresholdText(summary), notes: notes, hasNotes: !notes.isEmpty,
            riskCounts: riskCounts(summary),
            entropyCharts: CohortFigures.entropyHistograms(cases).map { ReportPage.Figure(svg: $0.svg) },
            confidenceChart: CohortFigures.confidenceBoxPlot(cases),
            l5s1Chart: CohortFigures.l5s1ConfidenceScatter(cases),
            suspicionScatterChart: CohortFigures.suspicionScatter(cases, thresholds: summary.thresholds),
            suspicionChart: CohortFigures.suspicionHistogram(cases, thresholds: summary.thresholds),
            lumbarCountChart: CohortFigures.lumbarCountBars(summary),
            candidates: candidates, candidateCount: candidates.count, candidateLimit: candidateLimit, showsLabels: labels != nil,
            levelRows: LevelName.allCases.map { level in
                let text = { (m: LevelMetric) in MeanSD(m.values(cases, at: level))?.text ?? "—" }
                return ReportPage.LevelRow(level: level.displayName, confidence: text(.confidence), entropy: text(.entropy),
                                           spatialEntropy: text(.spatialEntropy))
            },
            labels: labelSection)
        let html = try MustacheTemplate(string: ReportTemplate.html).render(page)
        return (html, notes)
    }

    var modelNames: String {
        let names = Set(cases.compactMap { $0.model.map { "\($0.name) \($0.version)" } })
        return names.isEmpty ? "not recorded" : names.sorted().joined(separator: ", ")
    }

    func thresholdText(_ summary: CohortSummary) -> String {
        guard let t = summary.thresholds else { return "not recorded in the source (analyze CSV): no threshold lines drawn" }
        let origins = Set(cases.filter { $0.thresholds == t }.map(\.flags.riskThresholdOrigin).filter { !$0.isEmpty })
        return "high > \(CohortFigures.format(t.high)), medium ≥ \(CohortFigures.format(t.medium)) on lstv_suspicion"
            + (origins.isEmpty ? "" : " (from the \(origins.sorted().joined(separator: ", ")))")
    }

    func riskCounts(_ summary: CohortSummary) -> ReportPage.RiskCounts {
        func percent(_ risks: [Risk]) -> String { summary.percent(risks).map { String(format: "%.1f %%", $0) } ?? "—" }
        return ReportPage.RiskCounts(
            rows: Risk.allCases.reversed().map { ReportPage.RiskRow(risk: $0.rawValue, count: summary.count($0), percent: percent([$0])) },
            unclassified: summary.unclassified > 0 ? summary.unclassified : nil,
            highRate: percent([.high]), mediumOrHighRate: percent([.medium, .high]), chart: CohortFigures.riskBars(summary))
    }

    func candidateRow(_ c: CohortCase, rank: Int, thumbnail: String?) -> ReportPage.Candidate {
        let label = labels?.label(for: c).map { l in (l.lstv ? "LSTV" : "no LSTV") + (l.castellvi.map { " (Castellvi \($0))" } ?? "") }
        return ReportPage.Candidate(
            rank: rank, studyInstanceUID: c.studyInstanceUID, seriesInstanceUID: c.seriesInstanceUID,
            accessionNumber: c.accessionNumber.flatMap { $0.isEmpty ? nil : $0 }, risk: c.flags.risk,
            suspicion: CohortFigures.format(c.flags.lstvSuspicion),
            lumbarCount: c.flags.lumbarCount.map(String.init) ?? "undetermined", junction: c.flags.junctionState,
            reasons: c.flags.suspicionReasons, label: label ?? (labels == nil ? nil : "not labelled"), thumbnail: thumbnail)
    }

    func labelPerformance(_ labels: Labels, thresholds: RiskThresholds?) -> ReportPage.Labels {
        let joined = cases.compactMap { c in labels.label(for: c).map { (c, $0) } }
        let samples = joined.map { LabelledScore(score: $0.0.rankedSuspicion, positive: $0.1.lstv) }
        let usedKeys = Set(joined.compactMap { labels.key.value(of: $0.0) })
        let unmatched = labels.byKey.filter { !usedKeys.contains($0.0) }.count
        let positives = samples.filter(\.positive).count
        let roc = Curves.roc(samples), pr = Curves.precisionRecall(samples)
        let op = thresholds.map { OperatingPoint(threshold: $0.high, samples: samples) }
        func pct(_ v: Double?) -> String { v.map { String(format: "%.0f %%", $0 * 100) } ?? "—" }
        return ReportPage.Labels(
            source: labels.source, key: labels.key.rawValue, matched: samples.count, positives: positives,
            negatives: samples.count - positives, unmatchedLabels: unmatched > 0 ? unmatched : nil,
            problem: roc == nil ? "ROC needs labelled series of both kinds (LSTV and not): no curves drawn." : nil,
            rocAUC: roc.map { String(format: "%.3f", $0.auc) }, averagePrecision: pr.map { String(format: "%.3f", $0.averagePrecision) },
            operatingPoint: op.map {
                "At the high threshold (lstv_suspicion > \(CohortFigures.format($0.threshold))): sensitivity \(pct($0.sensitivity)), "
                    + "specificity \(pct($0.specificity)), PPV \(pct($0.ppv)) "
                    + "(\($0.truePositives) TP, \($0.falsePositives) FP, \($0.falseNegatives) FN, \($0.trueNegatives) TN)."
            } ?? "No operating point: the source does not record the risk thresholds.",
            rocChart: roc.map { LabelFigures.roc($0.points, auc: $0.auc, at: op) },
            prChart: roc == nil ? nil : pr.map {
                LabelFigures.precisionRecall($0.points, averagePrecision: $0.averagePrecision,
                                             prevalence: Double(positives) / Double(samples.count), at: op)
            })
    }
}

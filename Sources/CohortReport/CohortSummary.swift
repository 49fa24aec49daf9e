import Analysis
import Cohort

/// The cohort as a whole: how many series in each risk class, the thresholds they were classed
/// with, the lumbar counts.
struct CohortSummary {
    let analysed: Int
    /// Series analyze could not analyse (file sources only; the database keeps finished analyses).
    let failed: Int
    let riskCounts: [Risk: Int]
    /// Cases whose risk is not one of low/medium/high (none from the node itself).
    let unclassified: Int
    /// The thresholds most of the cohort was classed with (nil when the source does not say:
    /// analyze CSV), and how many cases were classed with others (another model or configuration).
    let thresholds: RiskThresholds?
    let casesWithOtherThresholds: Int
    let lumbarCounts: [LumbarCountClass: Int]

    init(cases: [CohortCase], failed: Int) {
        analysed = cases.count
        self.failed = failed
        let risks = cases.map { Risk(rawValue: $0.flags.risk) }
        riskCounts = Dictionary(grouping: risks.compactMap { $0 }, by: { $0 }).mapValues(\.count)
        unclassified = risks.filter { $0 == nil }.count
        var tally: [(thresholds: RiskThresholds, count: Int)] = []
        for t in cases.compactMap(\.thresholds) {
            if let i = tally.firstIndex(where: { $0.thresholds == t }) { tally[i].count += 1 } else { tally.append((t, 1)) }
        }
        let common = tally.max { $0.count < $1.count }
        thresholds = common?.thresholds
        casesWithOtherThresholds = cases.filter { $0.thresholds != nil }.count - (common?.count ?? 0)
        lumbarCounts = Dictionary(grouping: cases.map { LumbarCountClass($0.flags.lumbarCount) }, by: { $0 }).mapValues(\.count)
    }

    func count(_ risk: Risk) -> Int { riskCounts[risk] ?? 0 }

    /// The share of analysed series in `risks`, in percent; nil for an empty cohort.
    func percent(_ risks: [Risk]) -> Double? {
        analysed == 0 ? nil : Double(risks.map(count).reduce(0, +)) * 100 / Double(analysed)
    }
}

/// The lumbar count as the report groups it.
enum LumbarCountClass: CaseIterable {
    case four, five, six, undetermined

    /// The node counts 4, 5 or 6 lumbar vertebrae, or says it cannot (nil).
    init(_ count: Int?) {
        switch count {
        case 4: self = .four
        case 5: self = .five
        case 6: self = .six
        default: self = .undetermined
        }
    }

    var label: String {
        switch self {
        case .four: return "4"
        case .five: return "5"
        case .six: return "6"
        case .undetermined: return "undetermined"
        }
    }
}

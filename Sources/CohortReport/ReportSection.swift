/// The report's sections in page order. The raw value is the section element's id: stable, for
/// links, tests and the web pages that will show the same sections.
public enum ReportSection: String, CaseIterable, Sendable {
    case riskCounts = "risk-counts"
    case entropyHistograms = "entropy-histograms"
    case confidenceBoxPlots = "confidence-box-plots"
    case l5s1Scatter = "l5s1-scatter"
    case suspicionDistribution = "suspicion-distribution"
    case topCandidates = "top-candidates"
    case levelComparison = "level-comparison"
    case labelPerformance = "label-performance"

    public var title: String {
        switch self {
        case .riskCounts: return "Risk classes and flag rate"
        case .entropyHistograms: return "Entropy by level"
        case .confidenceBoxPlots: return "Peak confidence by level"
        case .l5s1Scatter: return "L5/S1 confidence, entropy and suspicion"
        case .suspicionDistribution: return "Suspicion and lumbar count"
        case .topCandidates: return "Top candidates"
        case .levelComparison: return "Level comparison"
        case .labelPerformance: return "Against the labels: ROC and precision–recall"
        }
    }
}

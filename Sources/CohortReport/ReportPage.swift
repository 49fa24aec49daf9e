// What the template renders: plain stored values (swift-mustache reads stored properties through
// Mirror), every number already formatted. Text from data goes through the template's escaping
// `{{…}}`; only chart markup (escaped by Charts) is inserted raw, with `{{{…}}}`.

struct ReportPage {
    struct Heading {
        let id: String
        let title: String
        init(_ section: ReportSection) { id = section.rawValue; title = section.title }
    }

    struct Figure {
        let svg: String
    }

    struct RiskRow {
        let risk: String
        let count: Int
        let percent: String
    }

    struct RiskCounts {
        let heading = Heading(.riskCounts)
        let rows: [RiskRow]
        /// Nil when every case has a risk class.
        let unclassified: Int?
        let highRate: String
        let mediumOrHighRate: String
        let chart: String
    }

    struct Candidate {
        let rank: Int
        let studyInstanceUID: String
        let seriesInstanceUID: String
        /// Nil when the source has none.
        let accessionNumber: String?
        let risk: String
        let suspicion: String
        let lumbarCount: String
        let junction: String
        let reasons: [String]
        let label: String?
        /// A `data:image/png;base64,…` URI.
        let thumbnail: String?
    }

    struct LevelRow {
        let level: String
        let confidence: String
        let entropy: String
        let spatialEntropy: String
    }

    struct Labels {
        let source: String
        let key: String
        let matched: Int
        let positives: Int
        let negatives: Int
        /// Nil when every label matched a series.
        let unmatchedLabels: Int?
        /// Why no curve could be drawn (one class only), when none could.
        let problem: String?
        let rocAUC: String?
        let averagePrecision: String?
        let operatingPoint: String?
        let rocChart: String?
        let prChart: String?
    }

    let title: String
    let generatedAt: String
    let source: String
    let analysed: Int
    /// Nil when none failed.
    let failed: Int?
    let models: String
    let thresholds: String
    /// What the reader should know about the data (thumbnails missing, mixed thresholds).
    let notes: [String]
    let hasNotes: Bool

    let riskCounts: RiskCounts
    let entropyHistograms = Heading(.entropyHistograms)
    let entropyCharts: [Figure]
    let confidenceBoxPlots = Heading(.confidenceBoxPlots)
    let confidenceChart: String
    let l5s1Scatter = Heading(.l5s1Scatter)
    let l5s1Chart: String
    let suspicionScatterChart: String
    let suspicionDistribution = Heading(.suspicionDistribution)
    let suspicionChart: String
    let lumbarCountChart: String
    let topCandidates = Heading(.topCandidates)
    let candidates: [Candidate]
    let candidateCount: Int
    let candidateLimit: Int
    let showsLabels: Bool
    let levelComparison = Heading(.levelComparison)
    let levelRows: [LevelRow]
    let labelPerformance = Heading(.labelPerformance)
    let labels: Labels?
}

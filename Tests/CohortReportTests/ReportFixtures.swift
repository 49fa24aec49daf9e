import Analysis
import Cohort
import Foundation
import Records

/// A made-up cohort: real `CohortCase` values with figures spread like the node's, enough for
/// every chart to have data.
enum ReportFixtures {
    static let thresholds = RiskThresholds(high: 4.96, medium: 2.97)

    static func makeCase(_ i: Int, suspicion: Double, lumbarCount: Int? = 5, accession: String? = nil, keyImage: String? = nil,
                         reasons: [String] = [], description: String? = "T2 SAG") -> CohortCase {
        let levels = Dictionary(uniqueKeysWithValues: LevelName.allCases.enumerated().map { j, l in
            (l.rawValue, AnalysisFlags.Level(confidence: 0.6 + 0.05 * Double((i + j) % 7), entropy: 2 + 0.3 * Double((i * 3 + j) % 9),
                                             spatialEntropy: 3 + 0.1 * Double(i % 5)))
        })
        let flags = AnalysisFlags(risk: thresholds.classify(suspicion).rawValue, ladderStatus: "consistent",
                                  riskEntropy: levels["l5_s1"]!.entropy, levels: levels, lstvSuspicion: suspicion,
                                  suspicionScale: "normal_sd", lumbarCount: lumbarCount, lumbarCountProbability: 0.9,
                                  junctionState: "typical", riskThresholdOrigin: "model", suspicionReasons: reasons)
        return CohortCase(studyInstanceUID: "1.2.826.0.1.3680043.10.1.\(i)", seriesInstanceUID: "1.2.826.0.1.3680043.10.1.\(i).2",
                          accessionNumber: accession ?? "ACC\(i)", patientID: "P\(i)", seriesDescription: description, flags: flags,
                          thresholds: thresholds, model: ModelIdentity(name: "lstv-localizer", version: "1.3.0", sha256: "ab"),
                          keyImagePath: keyImage)
    }

    /// 30 cases: suspicion from -1 to 6.25, every lumbar count class, a few reasons.
    static func cohort() -> [CohortCase] {
        (0..<30).map { i in
            makeCase(i, suspicion: -1 + 0.25 * Double(i), lumbarCount: [5, 5, 5, 6, 4, nil][i % 6],
                     reasons: i % 4 == 0 ? ["T12/L1 one disc above the localizer's", "short L5–sacrum span"] : [])
        }
    }
}

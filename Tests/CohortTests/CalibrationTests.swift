@testable import Cohort
import Records
import XCTest

final class CalibrationTests: XCTestCase {
    func cohort(_ scores: [Double], _ labels: [Bool]) -> [(CohortCase, Labels.Label)] {
        zip(scores, labels).enumerated().map { i, p in
            let flags = AnalysisFlags(risk: "low", ladderStatus: "consistent", riskEntropy: 5, levels: [:], lstvSuspicion: p.0,
                                      suspicionScale: "normal_sd", lumbarCount: 5, lumbarCountProbability: nil, junctionState: "typical",
                                      riskThresholdOrigin: "model", suspicionReasons: [])
            return (CohortCase(studyInstanceUID: "1.\(i)", seriesInstanceUID: "1.\(i).1", flags: flags), Labels.Label(lstv: p.1, castellvi: nil))
        }
    }

    /// Ten negatives scoring 0…9 and ten positives from `offset` up.
    func calibrated(positivesFrom offset: Double) throws -> Calibration {
        let scores = (0..<10).map(Double.init) + (0..<10).map { offset + Double($0) }
        let labels = [Bool](repeating: false, count: 10) + [Bool](repeating: true, count: 10)
        var o = Calibration.Options()
        o.bootstrapReplicates = 200
        return try Calibration(cases: cohort(scores, labels), options: o)
    }

    /// Perfectly separated classes: AUC 1, and max-F1 puts the threshold between them.
    func testSeparatedClasses() throws {
        let c = try calibrated(positivesFrom: 20)
        XCTAssertEqual(c.auc, 1)
        XCTAssertEqual(c.high, 14.5, "midway between the highest negative (9) and the lowest positive (20)")
        XCTAssertLessThanOrEqual(c.medium, c.high)
        for f in c.folds { XCTAssertEqual(f.sensitivity, 1); XCTAssertEqual(f.specificity, 1) }
    }

    /// Folds: every fold has its share of each class; the same seed deals the same folds.
    func testStratifiedFolds() {
        let labels = (0..<53).map { $0 % 4 == 0 }
        let a = Calibration.stratifiedFolds(labels: labels, k: 5, seed: 1)
        XCTAssertEqual(a, Calibration.stratifiedFolds(labels: labels, k: 5, seed: 1))
        XCTAssertNotEqual(a, Calibration.stratifiedFolds(labels: labels, k: 5, seed: 2))
        for f in 0..<5 {
            let pos = labels.indices.filter { a[$0] == f && labels[$0] }.count
            let neg = labels.indices.filter { a[$0] == f && !labels[$0] }.count
            XCTAssertTrue((2...3).contains(pos), "fold \(f): \(pos) positives")
            XCTAssertTrue((7...8).contains(neg), "fold \(f): \(neg) negatives")
        }
    }

    func testCandidatesLieBetweenDistinctScores() {
        XCTAssertEqual(Calibration.candidates([3, 1, 2, 2]), [0, 1.5, 2.5, 3])
    }

    func testTooFewCasesForTheFolds() {
        XCTAssertThrowsError(try Calibration(cases: cohort([1, 2, 3], [true, false, false]))) { error in
            XCTAssertTrue("\(error)".contains("5-fold cross-validation needs"), "\(error)")
        }
    }

    /// The calibration file is configuration: its thresholds as written, its provenance quoted.
    func testConfigurationFile() throws {
        let c = try calibrated(positivesFrom: 5)
        let text = c.configurationFile(modelSHA256: "ab", date: Date(timeIntervalSince1970: 0))
        XCTAssertTrue(text.contains("risk_thresholds: {high: \(c.high), medium: \(c.medium)}"), text)
        XCTAssertTrue(text.contains("risk_thresholds_provenance: 'n=20 (10 LSTV), ROC AUC"), text)
    }
}

// ROC and precision-recall curves of a score against binary labels, for the report's section on
// labelled cases: the points as the charts take them; the statistics are Cohort's `ROC`.
import Cohort

/// One labelled case: its score (`CohortCase.rankedSuspicion`: never NaN) and whether it is a
/// positive (an LSTV).
struct LabelledScore: Equatable {
    var score: Double
    var positive: Bool
}

struct ROCPoint: Equatable {
    var falsePositiveRate: Double, truePositiveRate: Double
}

struct PRPoint: Equatable {
    var recall: Double, precision: Double
}

/// The confusion matrix of "positive when the score is above the threshold" (the rule that makes
/// a series `high`).
struct OperatingPoint: Equatable {
    var threshold: Double
    var truePositives = 0, falsePositives = 0, falseNegatives = 0, trueNegatives = 0

    init(threshold: Double, samples: [LabelledScore]) {
        self.threshold = threshold
        for s in samples {
            switch (s.score > threshold, s.positive) {
            case (true, true): truePositives += 1
            case (true, false): falsePositives += 1
            case (false, true): falseNegatives += 1
            case (false, false): trueNegatives += 1
            }
        }
    }

    /// Sensitivity (recall); nil without positives.
    var truePositiveRate: Double? { ratio(truePositives, truePositives + falseNegatives) }
    var falsePositiveRate: Double? { ratio(falsePositives, falsePositives + trueNegatives) }
    /// Positive predictive value; nil when nothing is called positive.
    var precision: Double? { ratio(truePositives, truePositives + falsePositives) }

    private func ratio(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : Double(a) / Double(b) }
}

/// The curves the report draws, from Cohort's ROC statistics (the ones `calibrate` prints).
enum Curves {
    /// The ROC curve from (0, 0) to (1, 1), one vertex per run of equal scores, and its area; nil
    /// without both classes.
    static func roc(_ samples: [LabelledScore]) -> (points: [ROCPoint], auc: Double)? {
        let scores = samples.map(\.score), labels = samples.map(\.positive)
        guard let auc = ROC.auc(scores: scores, labels: labels) else { return nil }
        return (ROC.curve(scores: scores, labels: labels).map { ROCPoint(falsePositiveRate: $0.falsePositiveRate, truePositiveRate: $0.truePositiveRate) }, auc)
    }

    /// The precision–recall steps from (0, 1) and the average precision; nil without positives.
    static func precisionRecall(_ samples: [LabelledScore]) -> (points: [PRPoint], averagePrecision: Double)? {
        let scores = samples.map(\.score), labels = samples.map(\.positive)
        guard let ap = ROC.averagePrecision(scores: scores, labels: labels) else { return nil }
        return ([PRPoint(recall: 0, precision: 1)] + ROC.curve(scores: scores, labels: labels).dropFirst().map {
            PRPoint(recall: $0.truePositiveRate, precision: $0.precision ?? 1)
        }, ap)
    }
}

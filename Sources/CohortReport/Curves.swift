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

/// The report's operating point: Cohort's confusion figures at the high threshold.
typealias OperatingPoint = Calibration.Figures

extension Calibration.Figures {
    init(threshold: Double, samples: [LabelledScore]) {
        self.init(scores: samples.map(\.score), labels: samples.map(\.positive), threshold: threshold)
    }
    /// 1 − specificity: the ROC chart's x.
    var falsePositiveRate: Double? { specificity.map { 1 - $0 } }
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

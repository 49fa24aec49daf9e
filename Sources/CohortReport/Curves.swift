// ROC and precision-recall curves of a score against binary labels, for the report's section on
// labelled cases. Kept to what the report draws; `calibrate` has its own statistics in Cohort, to be
// unified with these.

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

enum Curves {
    /// Cumulative (true, false) positive counts after each run of equal scores, highest first: the
    /// vertices of both curves. Ties form one step, so their order in the input does not matter.
    static func cumulativeCounts(_ samples: [LabelledScore]) -> [(tp: Int, fp: Int)] {
        let sorted = samples.sorted { $0.score > $1.score }
        var out: [(tp: Int, fp: Int)] = [], tp = 0, fp = 0
        for (i, s) in sorted.enumerated() {
            if s.positive { tp += 1 } else { fp += 1 }
            if i + 1 == sorted.count || sorted[i + 1].score != s.score { out.append((tp, fp)) }
        }
        return out
    }

    /// The ROC curve from (0, 0) to (1, 1) and its area (trapezoids: a tie between a positive and a
    /// negative counts a half); nil unless there are positives and negatives.
    static func roc(_ samples: [LabelledScore]) -> (points: [ROCPoint], auc: Double)? {
        let p = samples.filter(\.positive).count, n = samples.count - p
        guard p > 0, n > 0 else { return nil }
        let points = [ROCPoint(falsePositiveRate: 0, truePositiveRate: 0)] + cumulativeCounts(samples).map {
            ROCPoint(falsePositiveRate: Double($0.fp) / Double(n), truePositiveRate: Double($0.tp) / Double(p))
        }
        let auc = zip(points, points.dropFirst()).reduce(0.0) { area, segment in
            area + (segment.1.falsePositiveRate - segment.0.falsePositiveRate)
                * (segment.0.truePositiveRate + segment.1.truePositiveRate) / 2
        }
        return (points, auc)
    }

    /// The precision-recall curve, starting at (recall 0, precision 1), and its area as average
    /// precision (the precision at each threshold weighted by the recall it adds; no interpolation
    /// between vertices, which would overstate it); nil without positives.
    static func precisionRecall(_ samples: [LabelledScore]) -> (points: [PRPoint], averagePrecision: Double)? {
        let p = samples.filter(\.positive).count
        guard p > 0 else { return nil }
        let points = [PRPoint(recall: 0, precision: 1)] + cumulativeCounts(samples).map {
            PRPoint(recall: Double($0.tp) / Double(p), precision: Double($0.tp) / Double($0.tp + $0.fp))
        }
        let ap = zip(points, points.dropFirst()).reduce(0.0) { sum, step in
            sum + (step.1.recall - step.0.recall) * step.1.precision
        }
        return (points, ap)
    }
}

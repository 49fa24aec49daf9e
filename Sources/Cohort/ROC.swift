/// Ranking statistics of a score against binary labels (1 = LSTV). Higher scores are more
/// suspicious; a metric where lower is suspicious is passed negated.
public enum ROC {
    /// Area under the ROC curve: the probability that a random positive outscores a random
    /// negative, ties counting half (the Mann–Whitney U with mid-ranks; scikit-learn's
    /// `roc_auc_score`). Nil without both classes.
    public static func auc(scores: [Double], labels: [Bool]) -> Double? {
        let pos = labels.filter { $0 }.count, neg = labels.count - pos
        guard pos > 0, neg > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSumPositive = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let midRank = Double(i + j) / 2 + 1  // ranks are 1-based
            for k in i...j where labels[order[k]] { rankSumPositive += midRank }
            i = j + 1
        }
        let u = rankSumPositive - Double(pos) * Double(pos + 1) / 2
        return u / (Double(pos) * Double(neg))
    }

    /// Average precision, the area under the precision–recall curve as a step function over the
    /// distinct score thresholds (scikit-learn's `average_precision_score`). Nil without positives.
    public static func averagePrecision(scores: [Double], labels: [Bool]) -> Double? {
        let pos = labels.filter { $0 }.count
        guard pos > 0 else { return nil }
        var ap = 0.0, tp = 0, fp = 0, lastRecall = 0.0
        for group in groupsDescending(scores) {
            for k in group { if labels[k] { tp += 1 } else { fp += 1 } }
            let recall = Double(tp) / Double(pos), precision = Double(tp) / Double(tp + fp)
            ap += (recall - lastRecall) * precision
            lastRecall = recall
        }
        return ap
    }

    /// One point per distinct threshold, from the strictest: (false positive rate, true positive
    /// rate, precision, threshold), starting at (0, 0) for "nothing positive".
    public struct Point: Sendable, Equatable {
        public var falsePositiveRate: Double
        public var truePositiveRate: Double
        public var precision: Double?
        /// Cases scoring at or above this are called positive.
        public var threshold: Double
    }

    public static func curve(scores: [Double], labels: [Bool]) -> [Point] {
        let pos = max(1, labels.filter { $0 }.count), neg = max(1, labels.count - labels.filter { $0 }.count)
        var points = [Point(falsePositiveRate: 0, truePositiveRate: 0, precision: nil, threshold: .infinity)]
        var tp = 0, fp = 0
        for group in groupsDescending(scores) {
            for k in group { if labels[k] { tp += 1 } else { fp += 1 } }
            points.append(Point(falsePositiveRate: Double(fp) / Double(neg), truePositiveRate: Double(tp) / Double(pos),
                                precision: Double(tp) / Double(tp + fp), threshold: scores[group[0]]))
        }
        return points
    }

    /// Indices grouped by equal score, highest score first.
    static func groupsDescending(_ scores: [Double]) -> [[Int]] {
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var groups: [[Int]] = []
        for k in order {
            if let last = groups.last?.first, scores[last] == scores[k] { groups[groups.count - 1].append(k) } else { groups.append([k]) }
        }
        return groups
    }

    /// A seeded percentile bootstrap of a statistic over cases resampled with replacement: the
    /// 2.5th and 97.5th percentiles of `replicates` resamples (resamples where it is undefined, e.g.
    /// one class only, are drawn again).
    public static func bootstrapInterval(scores: [Double], labels: [Bool], replicates: Int = 2000, seed: UInt64,
                                         level: Double = 0.95,
                                         _ statistic: ([Double], [Bool]) -> Double?) -> (low: Double, high: Double)? {
        guard statistic(scores, labels) != nil else { return nil }
        var rng = SeededRandom(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(replicates)
        var s = [Double](repeating: 0, count: scores.count), l = [Bool](repeating: false, count: scores.count)
        var attempts = 0
        while values.count < replicates && attempts < replicates * 20 {
            attempts += 1
            for i in scores.indices {
                let k = Int(rng.next() % UInt64(scores.count))
                s[i] = scores[k]; l[i] = labels[k]
            }
            if let v = statistic(s, l) { values.append(v) }
        }
        guard !values.isEmpty else { return nil }
        values.sort()
        return (percentile(values, (1 - level) / 2), percentile(values, 1 - (1 - level) / 2))
    }

    /// Linear interpolation between closest ranks (NumPy's default).
    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        let x = q * Double(sorted.count - 1)
        let lo = Int(x.rounded(.down)), hi = min(sorted.count - 1, lo + 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - Double(lo))
    }
}

import Foundation

/// Thresholds on `lstv_suspicion` from a site's labelled cases: stratified k-fold cross-validation
/// of every candidate threshold, the operating threshold chosen by a strategy on the folds' mean
/// figures, and the cross-validated performance of that choice (chosen on the other folds, measured
/// on the held-out one).
public struct Calibration: Sendable {
    public enum Strategy: String, Sendable, CaseIterable {
        /// The threshold with the highest mean F1.
        case maxF1 = "max_f1"
        /// Among thresholds whose mean sensitivity reaches the target, the highest mean PPV.
        case sensitivityTarget = "sens_target"
    }

    public struct Options: Sendable {
        public var strategy = Strategy.maxF1
        public var sensitivityTarget = 0.9
        /// `medium` is the highest threshold whose mean sensitivity reaches this (a band that misses little).
        public var mediumSensitivity = 0.95
        public var folds = 5
        public var seed: UInt64 = 20_241_130
        public var bootstrapReplicates = 2000
        public init() {}
    }

    /// A figure across folds.
    public struct MeanSD: Sendable, Equatable, Encodable {
        public var mean: Double
        public var sd: Double
        public var folds: Int
        init?(_ values: [Double?]) {
            let v = values.compactMap { $0 }
            guard !v.isEmpty else { return nil }
            let m = v.reduce(0, +) / Double(v.count)
            mean = m
            sd = v.count > 1 ? (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)).squareRoot() : 0
            folds = v.count
        }
    }

    /// The confusion matrix of "LSTV when the score is above `threshold`" (the rule that makes a
    /// series `high`) and its figures; a figure is nil where undefined (no positives called, say).
    public struct Figures: Sendable, Equatable {
        public let threshold: Double
        public private(set) var truePositives = 0, falsePositives = 0, trueNegatives = 0, falseNegatives = 0

        public init(scores: [Double], labels: [Bool], threshold: Double) {
            self.threshold = threshold
            for (s, l) in zip(scores, labels) {
                switch (s > threshold, l) {
                case (true, true): truePositives += 1
                case (true, false): falsePositives += 1
                case (false, false): trueNegatives += 1
                case (false, true): falseNegatives += 1
                }
            }
        }

        private func ratio(_ a: Int, _ b: Int) -> Double? { b > 0 ? Double(a) / Double(b) : nil }
        public var sensitivity: Double? { ratio(truePositives, truePositives + falseNegatives) }
        public var specificity: Double? { ratio(trueNegatives, trueNegatives + falsePositives) }
        public var ppv: Double? { ratio(truePositives, truePositives + falsePositives) }
        public var npv: Double? { ratio(trueNegatives, trueNegatives + falseNegatives) }
        public var f1: Double? { ratio(2 * truePositives, 2 * truePositives + falsePositives + falseNegatives) }
    }

    /// One row of the threshold table: cases scoring above `threshold` are called LSTV.
    public struct Row: Sendable, Equatable, Encodable {
        public var threshold: Double
        public var sensitivity, specificity, ppv, npv, f1: MeanSD?
    }

    /// The choice made without a fold, measured on it.
    public struct Fold: Sendable, Equatable, Encodable {
        public var threshold: Double
        public var sensitivity, specificity, ppv, npv, f1: Double?
        public var positives: Int
        public var negatives: Int
    }

    public let options: Options
    public let positives: Int
    public let negatives: Int
    public let auc: Double
    public let aucInterval: (low: Double, high: Double)?
    /// Average precision (the PR curve's area as scikit-learn computes it).
    public let prAUC: Double
    public let prAUCInterval: (low: Double, high: Double)?
    /// The reference method's per-level figures, each as a score on its own (confidence negated:
    /// low confidence is the suspicious side).
    public let levelAUCs: [(name: String, auc: Double)]
    public let table: [Row]
    public let high: Double
    public let medium: Double
    public let folds: [Fold]

    public init(cases: [(CohortCase, Labels.Label)], options: Options = Options()) throws {
        let scores = cases.map(\.0.flags.lstvSuspicion), labels = cases.map(\.1.lstv)
        guard scores.allSatisfy(\.isFinite) else { throw CohortError("a case has no finite lstv_suspicion") }
        positives = labels.filter { $0 }.count
        negatives = labels.count - positives
        guard positives >= options.folds, negatives >= options.folds else {
            throw CohortError("\(positives) LSTV and \(negatives) other cases: \(options.folds)-fold cross-validation needs at least \(options.folds) of each")
        }
        self.options = options
        auc = ROC.auc(scores: scores, labels: labels)!
        prAUC = ROC.averagePrecision(scores: scores, labels: labels)!
        aucInterval = ROC.bootstrapInterval(scores: scores, labels: labels, replicates: options.bootstrapReplicates,
                                            seed: options.seed, ROC.auc)
        prAUCInterval = ROC.bootstrapInterval(scores: scores, labels: labels, replicates: options.bootstrapReplicates,
                                              seed: options.seed &+ 1, ROC.averagePrecision)
        levelAUCs = Self.levelFigures.compactMap { name, score in
            ROC.auc(scores: cases.map { score($0.0) }, labels: labels).map { (name, $0) }
        }

        let fold = Self.stratifiedFolds(labels: labels, k: options.folds, seed: options.seed)
        let candidates = Self.candidates(scores)
        func figures(_ t: Double, in f: Int, heldOut: Bool) -> Figures {
            let idx = scores.indices.filter { (fold[$0] == f) == heldOut }
            return Figures(scores: idx.map { scores[$0] }, labels: idx.map { labels[$0] }, threshold: t)
        }
        table = candidates.map { t in
            let perFold = (0..<options.folds).map { figures(t, in: $0, heldOut: true) }
            return Row(threshold: t, sensitivity: MeanSD(perFold.map(\.sensitivity)), specificity: MeanSD(perFold.map(\.specificity)),
                       ppv: MeanSD(perFold.map(\.ppv)), npv: MeanSD(perFold.map(\.npv)), f1: MeanSD(perFold.map(\.f1)))
        }
        high = try Self.choose(table, options)
        medium = min(high, table.last { ($0.sensitivity?.mean ?? 0) >= options.mediumSensitivity }?.threshold ?? candidates[0])

        // The choice itself cross-validated: chosen on the other folds' cases, measured on this one.
        folds = try (0..<options.folds).map { f in
            // Candidates from the training cases only: a threshold between their classes, not one
            // fitted to a held-out score.
            let train = Self.candidates(scores.indices.filter { fold[$0] != f }.map { scores[$0] }).map { t -> Row in
                let x = figures(t, in: f, heldOut: false)
                func one(_ v: Double?) -> MeanSD? { MeanSD([v]) }
                return Row(threshold: t, sensitivity: one(x.sensitivity), specificity: one(x.specificity), ppv: one(x.ppv),
                           npv: one(x.npv), f1: one(x.f1))
            }
            let t = try Self.choose(train, options)
            let x = figures(t, in: f, heldOut: true)
            let heldOut = labels.indices.filter { fold[$0] == f }
            return Fold(threshold: t, sensitivity: x.sensitivity, specificity: x.specificity, ppv: x.ppv, npv: x.npv, f1: x.f1,
                        positives: heldOut.filter { labels[$0] }.count, negatives: heldOut.filter { !labels[$0] }.count)
        }
    }

    static let levelFigures: [(String, (CohortCase) -> Double)] = ["l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1"].flatMap { level in
        [("\(level)_entropy", { (c: CohortCase) in c.flags.levels[level]?.entropy ?? .nan }),
         ("\(level)_confidence (low)", { (c: CohortCase) in -(c.flags.levels[level]?.confidence ?? .nan) }),
         ("\(level)_spatial_entropy", { (c: CohortCase) in c.flags.levels[level]?.spatialEntropy ?? .nan })]
    }

    /// Thresholds between consecutive distinct scores, and one below all and at the top (every case
    /// called, none called). A case is called LSTV when its score is above the threshold.
    static func candidates(_ scores: [Double]) -> [Double] {
        let distinct = Array(Set(scores)).sorted()
        return [distinct[0] - 1] + zip(distinct, distinct.dropFirst()).map { ($0 + $1) / 2 } + [distinct[distinct.count - 1]]
    }

    /// Fold of each case: each class shuffled with the seed, then dealt round-robin, so every fold
    /// holds its share of both classes.
    static func stratifiedFolds(labels: [Bool], k: Int, seed: UInt64) -> [Int] {
        var rng = SeededRandom(seed: seed)
        var fold = [Int](repeating: 0, count: labels.count)
        for cls in [true, false] {
            var members = labels.indices.filter { labels[$0] == cls }
            members.shuffle(using: &rng)
            for (i, m) in members.enumerated() { fold[m] = i % k }
        }
        return fold
    }

    static func choose(_ rows: [Row], _ o: Options) throws -> Double {
        // Ties go to the higher threshold: fewer calls for the same figure.
        func better(_ a: Double?, than b: Double?) -> Bool { (a ?? -1) >= (b ?? -1) }
        switch o.strategy {
        case .maxF1:
            guard let best = rows.reduce(nil as Row?, { b, r in b == nil || better(r.f1?.mean, than: b!.f1?.mean) ? r : b }) else {
                throw CohortError("no threshold to choose from")
            }
            return best.threshold
        case .sensitivityTarget:
            let reaching = rows.filter { ($0.sensitivity?.mean ?? 0) >= o.sensitivityTarget }
            guard let best = reaching.reduce(nil as Row?, { b, r in b == nil || better(r.ppv?.mean, than: b!.ppv?.mean) ? r : b }) else {
                throw CohortError("no threshold reaches a mean sensitivity of \(o.sensitivityTarget)")
            }
            return best.threshold
        }
    }
}

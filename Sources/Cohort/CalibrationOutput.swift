import Foundation

/// What `calibrate` prints and writes: the table for people, JSON for programs, and the
/// calibration file the node loads (`--config FILE`, or `include: [FILE]`).
extension Calibration {
    /// Where the numbers came from, in one line (the calibration file's provenance).
    public func provenance(modelSHA256: String?, date: Date) -> String {
        var parts = ["n=\(positives + negatives) (\(positives) LSTV)",
                     "ROC AUC \(f3(auc))" + (aucInterval.map { " (95% CI \(f3($0.low))-\(f3($0.high)))" } ?? ""),
                     "PR AUC \(f3(prAUC))",
                     "\(options.strategy.rawValue)" + (options.strategy == .sensitivityTarget ? " \(options.sensitivityTarget)" : ""),
                     "\(options.folds)-fold CV seed \(options.seed)"]
        if let sha = modelSHA256 { parts.append("model sha256 \(sha)") }
        parts.append(ISO8601DateFormatter().string(from: date))
        return parts.joined(separator: ", ")
    }

    /// The calibration file: risk thresholds and their provenance, as configuration keys.
    public func configurationFile(modelSHA256: String?, date: Date) -> String {
        """
        # lstv-node calibration, written by `lstv-node calibrate` (\(ISO8601DateFormatter().string(from: date))).
        # Use it with `lstv-node serve --config THIS_FILE` or `include: [THIS_FILE]` in the node's configuration.
        # Thresholds are on lstv_suspicion of model sha256 \(modelSHA256 ?? "unknown"): recalibrate after a model change.
        risk_thresholds: {high: \(repr(high)), medium: \(repr(medium))}
        risk_thresholds_provenance: '\(provenance(modelSHA256: modelSHA256, date: date).replacingOccurrences(of: "'", with: "''"))'

        """
    }

    /// The threshold table for people: about a dozen rows across the range, and the chosen ones.
    public func text(rows shown: Int = 12) -> String {
        var lines = [
            "cases: \(positives) LSTV, \(negatives) other",
            "ROC AUC of lstv_suspicion: \(f3(auc))" + (aucInterval.map { "  (95% bootstrap CI \(f3($0.low)) to \(f3($0.high)))" } ?? ""),
            "PR AUC (average precision): \(f3(prAUC))" + (prAUCInterval.map { "  (95% CI \(f3($0.low)) to \(f3($0.high)))" } ?? "")
                + "  (chance: \(f3(Double(positives) / Double(positives + negatives))))",
            "reference per-level figures, ROC AUC each:",
        ]
        for (name, value) in levelAUCs { lines.append("  \(name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(f3(value))") }
        lines.append("")
        lines.append("\(options.folds)-fold stratified cross-validation (seed \(options.seed)), held-out figures mean ± sd; LSTV when suspicion > threshold:")
        lines.append("  threshold   sensitivity    specificity    PPV            NPV            F1")
        let step = max(1, table.count / shown)
        let picked = table.indices.filter { $0 % step == 0 || table[$0].threshold == high || table[$0].threshold == medium }
        for i in picked {
            let r = table[i]
            let mark = r.threshold == high ? "  <- high (\(options.strategy.rawValue))" : r.threshold == medium ? "  <- medium" : ""
            lines.append("  " + String(format: "%9.4f", r.threshold) + "   " + [r.sensitivity, r.specificity, r.ppv, r.npv, r.f1].map(ms).joined(separator: "   ") + mark)
        }
        lines.append("")
        lines.append("the choice, cross-validated (chosen on the other folds, measured on this one):")
        for (i, f) in folds.enumerated() {
            lines.append("  fold \(i + 1): threshold \(String(format: "%.4f", f.threshold))  sensitivity \(opt(f.sensitivity))  specificity \(opt(f.specificity))"
                         + "  PPV \(opt(f.ppv))  F1 \(opt(f.f1))  (\(f.positives) LSTV, \(f.negatives) other)")
        }
        lines.append("thresholds: high > \(repr(high)), medium >= \(repr(medium))")
        return lines.joined(separator: "\n")
    }

    /// `--format json`.
    public func json(modelSHA256: String?, date: Date, extra: [String: Any]) throws -> String {
        func interval(_ i: (low: Double, high: Double)?) -> Any { i.map { [$0.low, $0.high] } ?? NSNull() }
        func figure(_ m: MeanSD?) -> Any { m.map { ["mean": $0.mean, "sd": $0.sd, "folds": $0.folds] } ?? NSNull() }
        func value(_ v: Double?) -> Any { v ?? NSNull() }
        var object: [String: Any] = [
            "auc": auc, "auc_ci": interval(aucInterval), "pr_auc": prAUC, "pr_auc_ci": interval(prAUCInterval),
            "n_pos": positives, "n_neg": negatives,
            "strategy": ["name": options.strategy.rawValue, "sens_target": options.sensitivityTarget,
                         "medium_sensitivity": options.mediumSensitivity],
            "thresholds": ["high": high, "medium": medium],
            "level_aucs": Dictionary(uniqueKeysWithValues: levelAUCs.map { ($0.name, $0.auc) }),
            "table": table.map { r in
                ["threshold": r.threshold, "sensitivity": figure(r.sensitivity), "specificity": figure(r.specificity),
                 "ppv": figure(r.ppv), "npv": figure(r.npv), "f1": figure(r.f1)] as [String: Any]
            },
            "cv": ["folds": options.folds, "seed": options.seed, "bootstrap_replicates": options.bootstrapReplicates,
                   "choice": folds.map { f in
                       ["threshold": f.threshold, "sensitivity": value(f.sensitivity), "specificity": value(f.specificity),
                        "ppv": value(f.ppv), "npv": value(f.npv), "f1": value(f.f1), "positives": f.positives,
                        "negatives": f.negatives] as [String: Any]
                   }] as [String: Any],
            "provenance": provenance(modelSHA256: modelSHA256, date: date),
        ]
        for (k, v) in extra { object[k] = v }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

/// Numbers as people read them, and as YAML reads back exactly.
private func f3(_ v: Double) -> String { String(format: "%.3f", v) }
private func opt(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "  -  " }
private func ms(_ m: Calibration.MeanSD?) -> String { m.map { String(format: "%.3f ± %.3f", $0.mean, $0.sd) } ?? "      -      " }
private func repr(_ v: Double) -> String { "\(v)" }

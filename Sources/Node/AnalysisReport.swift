import Analysis
import Engine
import Foundation
import Records

/// One analysed (or failed) series as `lstv-node analyze` reports it.
public struct SeriesAnalysisReport: Encodable {
    public let studyInstanceUID: String
    public let seriesInstanceUID: String
    public let seriesDescription: String?
    /// From the series' first instance: what `calibrate` joins labels on and checks against the
    /// model's training subjects.
    public let patientID: String?
    public let accessionNumber: String?
    public let instances: Int
    public let model: ModelIdentity
    public let result: AnalysisResult?
    public let error: String?

    public init(studyInstanceUID: String, seriesInstanceUID: String, descriptors: SeriesDescriptors, instances: Int,
                model: ModelIdentity, result: AnalysisResult?, error: String?) {
        self.studyInstanceUID = studyInstanceUID; self.seriesInstanceUID = seriesInstanceUID
        self.seriesDescription = descriptors.seriesDescription; self.patientID = descriptors.patientID
        self.accessionNumber = descriptors.accessionNumber; self.instances = instances; self.model = model
        self.result = result; self.error = error
    }

    enum Keys: String, CodingKey {
        case study_instance_uid, series_instance_uid, series_description, patient_id, accession_number, instances, model, status, error
        case risk, risk_entropy, risk_thresholds, ladder, levels, slice, neighbour_spread
        case lstv_suspicion, suspicion, risk_threshold_origin, excluded_instances
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(studyInstanceUID, forKey: .study_instance_uid)
        try c.encode(seriesInstanceUID, forKey: .series_instance_uid)
        try c.encode(seriesDescription, forKey: .series_description)
        try c.encode(patientID, forKey: .patient_id)
        try c.encode(accessionNumber, forKey: .accession_number)
        try c.encode(instances, forKey: .instances)
        try c.encode(model, forKey: .model)
        if let r = result {
            try c.encode("analysed", forKey: .status)
            try c.encode(r.risk, forKey: .risk)
            try c.encode(r.riskEntropy, forKey: .risk_entropy)
            try c.encode(r.riskThresholds, forKey: .risk_thresholds)
            try c.encode(r.riskThresholdOrigin, forKey: .risk_threshold_origin)
            try c.encode(r.lstvSuspicion, forKey: .lstv_suspicion)
            try c.encode(r.suspicion, forKey: .suspicion)
            try c.encode(r.ladder, forKey: .ladder)
            try c.encode(r.levels, forKey: .levels)
            try c.encode(r.slice, forKey: .slice)
            try c.encode(r.neighbourSpread, forKey: .neighbour_spread)
            // Only when instances were left out: the report of a series analysed whole is unchanged.
            try c.encodeIfPresent(r.excludedInstances, forKey: .excluded_instances)
        } else {
            try c.encode("failed", forKey: .status)
            try c.encode(error ?? "unknown error", forKey: .error)
        }
    }

    /// The reference's CSV columns: study_id, series_id, then per level confidence, entropy,
    /// spatial entropy, then risk; then the node's own, appended so the reference's stay in place.
    public static let csvColumns = ["study_id", "series_id"] + LevelName.allCases.flatMap {
        ["\($0.rawValue)_confidence", "\($0.rawValue)_entropy", "\($0.rawValue)_spatial_entropy"]
    } + ["risk"] + appendedColumns

    public static var csvHeader: String { csvColumns.joined(separator: ",") }

    static let appendedColumns = ["lstv_suspicion", "suspicion_scale", "lumbar_count", "lumbar_count_probability",
                                  "junction", "ladder", "suspicion_reasons"]

    public var csvRow: String? {
        guard let r = result else { return nil }
        var fields = [studyInstanceUID, seriesInstanceUID]
        for level in LevelName.allCases {
            let m = r.levels[level]!
            fields += [format(m.peakConfidence), format(m.entropy), format(m.spatialEntropy)]
        }
        fields.append(r.risk.rawValue)
        let s = r.suspicion
        fields += [format(r.lstvSuspicion), s.scale.rawValue, s.lumbarCount.value.map(String.init) ?? "undetermined",
                   s.lumbarCount.probability.map(format) ?? "", s.junction.state.rawValue, r.ladder.status.rawValue,
                   Self.csvQuoted(s.reasons.joined(separator: " | "))]
        return fields.joined(separator: ",")
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
    static func csvQuoted(_ v: String) -> String {
        guard v.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return v }
        return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    func format(_ v: Double) -> String { String(format: "%.6f", v) }

    public static func json(_ reports: [SeriesAnalysisReport]) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(reports), as: UTF8.self)
    }

    public static func table(_ reports: [SeriesAnalysisReport]) -> String {
        var lines: [String] = []
        for r in reports {
            lines.append("series \(r.seriesInstanceUID) (\(r.seriesDescription ?? "no description"), \(r.instances) instances)")
            guard let a = r.result else {
                lines.append("  FAILED: \(r.error ?? "unknown error")")
                continue
            }
            lines.append("  model \(r.model.name) \(r.model.version) sha256 \(r.model.sha256.prefix(12))…")
            lines.append("  LSTV risk: \(a.risk.rawValue.uppercased()) (suspicion \(String(format: "%.2f", a.lstvSuspicion)) \(a.suspicion.scale.rawValue),"
                         + " thresholds \(a.riskThresholdOrigin.rawValue) medium \(a.riskThresholds.medium) high \(a.riskThresholds.high));"
                         + " lumbar count \(a.suspicion.lumbarCount.value.map(String.init) ?? "undetermined"), junction \(a.suspicion.junction.state.rawValue)")
            for reason in a.suspicion.reasons { lines.append("    why: \(reason)") }
            lines.append("  L5/S1 entropy \(String(format: "%.3f", a.riskEntropy));"
                         + " ladder: \(a.ladder.status.rawValue)\(a.ladder.reasons.isEmpty ? "" : " (" + a.ladder.reasons.joined(separator: "; ") + ")")")
            lines.append("  level   peak    entropy  spatial  point [row, col] px   point mm")
            for level in LevelName.allCases {
                let m = a.levels[level]!
                let px = m.pointPx.map { String(format: "[%.1f, %.1f]", $0.row, $0.column) } ?? "-"
                let mm = m.pointMm.map { String(format: "[%.1f, %.1f, %.1f]", $0.x, $0.y, $0.z) } ?? "-"
                let spread = a.neighbourSpread.flatMap { n in n.levels[level].map { l in
                    "  spread " + (l.pointSpread.map { String(format: "%.1f ", $0) + n.unit } ?? "-")
                        + String(format: " entropy ±%.3f (%d/%d slices)", l.entropyStd, l.foundIn, n.sliceIndices.count)
                } } ?? ""
                lines.append("  " + level.displayName.padding(toLength: 6, withPad: " ", startingAt: 0)
                             + String(format: "  %.4f  %7.4f  %7.4f  ", m.peakConfidence, m.entropy, m.spatialEntropy)
                             + px.padding(toLength: 20, withPad: " ", startingAt: 0) + " " + mm + spread)
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension ModelIdentity {
    /// The identity of a loaded localizer, as jobs are queued for and reports name it.
    public init(_ model: LocalizerModel) { self.init(name: model.name, version: model.version, sha256: model.sha256) }
}

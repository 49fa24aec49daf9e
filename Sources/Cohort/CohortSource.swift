import Analysis
import Foundation
import Records
import Store

/// Where a cohort comes from: a file `lstv-node analyze` wrote (JSON or CSV), or the node's database.
public enum CohortSource {
    /// Reads analyze output, JSON (`--format json`) or CSV (`--format csv`), told apart by the
    /// first character. Failed series (no result) are left out and counted.
    public static func load(file path: String) throws -> (cases: [CohortCase], failed: Int) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CohortError("cannot read \(path): \(error.localizedDescription)")
        }
        let first = data.first(where: { !" \n\r\t".utf8.contains($0) })
        if first == UInt8(ascii: "[") || first == UInt8(ascii: "{") { return try analyzeJSON(data, path: path) }
        return try analyzeCSV(String(decoding: data, as: UTF8.self), path: path)
    }

    /// The stored flags of the node's database at `url` (libpq URI).
    public static func load(databaseURL url: String, since: Date?) throws -> [CohortCase] {
        try load(database: Database(url: url), since: since)
    }

    /// The stored flags (the `lstv_flags` view: each series' latest analysis), with key image paths;
    /// only one series' when `seriesInstanceUID` is given.
    public static func load(database: Database, since: Date?, seriesInstanceUID: String? = nil) throws -> [CohortCase] {
        let decoder = JSONDecoder()
        return try Pipeline(database: database).cohort(since: since, seriesInstanceUID: seriesInstanceUID).map { row in
            let id = row["analysis_id"] ?? "?"
            guard let json = row["result"] else { throw CohortError("analysis \(id): no stored result") }
            let result: AnalysisResult
            do { result = try decoder.decode(AnalysisResult.self, from: Data(json.utf8)) } catch {
                throw CohortError("analysis \(id): its stored result does not decode: \(error)")
            }
            return CohortCase(studyInstanceUID: row["study_instance_uid"] ?? "", seriesInstanceUID: row["series_instance_uid"] ?? "",
                              accessionNumber: row["accession_number"], patientID: row["patient_id"],
                              seriesDescription: row["series_description"], flags: AnalysisFlags(result),
                              thresholds: result.riskThresholds,
                              model: ModelIdentity(name: row["model_name"] ?? "", version: row["model_version"] ?? "",
                                                   sha256: row["model_sha256"] ?? ""),
                              analysedAt: row.date("analysed_at"), keyImagePath: row["key_image_path"])
        }
    }

    /// One element of analyze's JSON array: the series' identity beside its result's fields.
    struct AnalyzeEntry: Decodable {
        let study_instance_uid: String
        let series_instance_uid: String
        let series_description: String?
        let accession_number: String?
        let patient_id: String?
        let model: ModelIdentity?
        let status: String
    }

    static func analyzeJSON(_ data: Data, path: String) throws -> (cases: [CohortCase], failed: Int) {
        let decoder = JSONDecoder()
        let entries: [AnalyzeEntry], objects: [Any]
        do {
            entries = try decoder.decode([AnalyzeEntry].self, from: data)
            objects = try JSONSerialization.jsonObject(with: data) as? [Any] ?? []
        } catch {
            throw CohortError("\(path): not analyze JSON output (\(error))")
        }
        var cases: [CohortCase] = [], failed = 0
        for (i, e) in entries.enumerated() {
            guard e.status == "analysed" else { failed += 1; continue }
            let result: AnalysisResult
            do { result = try decoder.decode(AnalysisResult.self, from: try JSONSerialization.data(withJSONObject: objects[i])) } catch {
                throw CohortError("\(path): series \(e.series_instance_uid): result does not decode (\(error))")
            }
            cases.append(CohortCase(studyInstanceUID: e.study_instance_uid, seriesInstanceUID: e.series_instance_uid,
                                    accessionNumber: e.accession_number, patientID: e.patient_id,
                                    seriesDescription: e.series_description, flags: AnalysisFlags(result),
                                    thresholds: result.riskThresholds, model: e.model))
        }
        return (cases, failed)
    }

    static func analyzeCSV(_ text: String, path: String) throws -> (cases: [CohortCase], failed: Int) {
        let table = try CSVTable(text, source: path)
        let required = ["study_id", "series_id", "risk", "lstv_suspicion"] + LevelName.allCases.flatMap {
            ["\($0.rawValue)_confidence", "\($0.rawValue)_entropy", "\($0.rawValue)_spatial_entropy"]
        }
        try table.require(required)
        return (try table.rows.enumerated().map { i, row in
            func number(_ column: String) throws -> Double {
                guard let v = Double(row[column] ?? "") else { throw CohortError("\(path) line \(i + 2): \(column) is not a number") }
                return v
            }
            let levels = Dictionary(uniqueKeysWithValues: try LevelName.allCases.map { l in
                (l.rawValue, AnalysisFlags.Level(confidence: try number("\(l.rawValue)_confidence"), entropy: try number("\(l.rawValue)_entropy"),
                                                 spatialEntropy: try number("\(l.rawValue)_spatial_entropy")))
            })
            let flags = AnalysisFlags(risk: row["risk"] ?? "", ladderStatus: row["ladder"] ?? "", riskEntropy: try number("l5_s1_entropy"),
                                      levels: levels, lstvSuspicion: try number("lstv_suspicion"),
                                      suspicionScale: row["suspicion_scale"] ?? "", lumbarCount: row["lumbar_count"].flatMap { Int($0) },
                                      lumbarCountProbability: row["lumbar_count_probability"].flatMap { Double($0) },
                                      junctionState: row["junction"] ?? "", riskThresholdOrigin: "",
                                      suspicionReasons: (row["suspicion_reasons"] ?? "").components(separatedBy: " | ").filter { !$0.isEmpty })
            return CohortCase(studyInstanceUID: row["study_id"] ?? "", seriesInstanceUID: row["series_id"] ?? "", flags: flags)
        }, 0)
    }
}

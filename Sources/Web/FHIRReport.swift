import Analysis
import Foundation
import Store

/// A series' latest finished analysis (its `lstv_flags` row, from `Pipeline.flag`) as a FHIR R4
/// `DiagnosticReport` with its figures as contained Observations.
///
/// The report's code is a local one (`urn:lstv-node:code#lstv-screen`): LOINC has no code for an
/// automated LSTV suspicion score, and borrowing an imaging-report LOINC code would claim this is a
/// radiologist's report. The patient is referenced by the DICOM Patient ID alone, never by name.
enum FHIRReport {
    static let codeSystem = "urn:lstv-node:code"
    static let riskSystem = "urn:lstv-node:risk"
    static let ucum = "http://unitsofmeasure.org"
    static let dicomUID = "urn:dicom:uid"

    enum BuildError: Error, CustomStringConvertible {
        case missing(String)
        var description: String { switch self { case .missing(let c): return "lstv_flags column \(c) is missing or unreadable" } }
    }

    static func resource(_ row: Row) throws -> [String: Any] {
        guard let analysisID = row["analysis_id"] else { throw BuildError.missing("analysis_id") }
        guard let risk = row["risk"].flatMap(Risk.init(rawValue:)) else { throw BuildError.missing("risk") }
        guard let analysedAt = row.date("analysed_at") else { throw BuildError.missing("analysed_at") }
        let suspicion = row.double("lstv_suspicion")
        let scale = row["suspicion_scale"].flatMap(SuspicionScale.init(rawValue:)) ?? .l5s1Entropy
        let lumbarCount = row.int("lumbar_count")

        var observations: [[String: Any]] = []
        if let suspicion, suspicion.isFinite {
            observations.append(observation("suspicion", code: "lstv-suspicion", display: "LSTV suspicion", value: ["valueQuantity": quantity(suspicion, scale)]))
        }
        observations.append(observation("risk", code: "lstv-risk", display: "LSTV risk",
                                        value: ["valueCodeableConcept": ["coding": [["system": riskSystem, "code": risk.rawValue, "display": "\(risk.rawValue) risk"]],
                                                                         "text": risk.rawValue]]))
        if let lumbarCount {
            observations.append(observation("lumbar-count", code: "lumbar-count", display: "Lumbar vertebrae counted", value: ["valueInteger": lumbarCount]))
        }
        for level in LevelName.allCases {  // the `lstv_flags` columns `<level>_confidence`, `<level>_entropy`
            var components: [[String: Any]] = []
            if let c = row.double("\(level.rawValue)_confidence"), c.isFinite {
                components.append(["code": concept("peak-confidence", "Peak confidence"),
                                   "valueQuantity": ["value": c, "unit": "1", "system": ucum, "code": "1"]])
            }
            if let e = row.double("\(level.rawValue)_entropy"), e.isFinite {
                components.append(["code": concept("entropy", "Heatmap entropy"), "valueQuantity": nats(e)])
            }
            guard !components.isEmpty else { continue }
            var o = observation("level-\(level.rawValue.replacingOccurrences(of: "_", with: "-"))", code: "disc-level",
                                display: "Disc level \(level.displayName)", value: [:])
            o["bodySite"] = ["text": "\(level.displayName) intervertebral disc"]
            o["component"] = components
            observations.append(o)
        }

        var report: [String: Any] = [
            "resourceType": "DiagnosticReport",
            "id": "lstv-analysis-\(analysisID)",
            "status": "final",
            "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD", "display": "Radiology"]]]],
            "code": concept("lstv-screen", "Lumbosacral transitional vertebra screening (automated)"),
            "effectiveDateTime": Timestamp.iso8601(analysedAt),
            "issued": Timestamp.iso8601(analysedAt),
            "conclusion": conclusion(risk: risk, suspicion: suspicion, scale: scale, lumbarCount: lumbarCount, reasons: row["suspicion_reasons"]),
            "contained": observations,
            "result": observations.map { ["reference": "#\($0["id"]!)"] },
        ]
        if let patient = row["patient_id"], !patient.isEmpty {
            report["subject"] = ["type": "Patient", "identifier": ["value": patient]]
        }
        if let sr = row["sr_sop_instance_uid"], !sr.isEmpty {
            report["identifier"] = [["system": dicomUID, "value": "urn:oid:\(sr)"]]
        }
        if let study = row["study_instance_uid"], !study.isEmpty {
            report["imagingStudy"] = [["type": "ImagingStudy", "identifier": ["system": dicomUID, "value": "urn:oid:\(study)"]]]
        }
        if let key = row["key_image_sop_instance_uid"], !key.isEmpty {
            report["media"] = [["comment": "key image", "link": ["type": "Media", "identifier": ["system": dicomUID, "value": "urn:oid:\(key)"]]]]
        }
        return report
    }

    static func conclusion(risk: Risk, suspicion: Double?, scale: SuspicionScale, lumbarCount: Int?, reasons: String?) -> String {
        var parts = ["LSTV risk \(risk.rawValue)"]
        if let suspicion, suspicion.isFinite {
            let unit = scale == .normalDeviation ? "SD from normal anatomy" : "nats of L5/S1 heatmap entropy"
            parts.append("suspicion \(String(format: "%.2f", suspicion)) \(unit)")
        }
        if let lumbarCount { parts.append("\(lumbarCount) lumbar vertebrae counted") }
        if let reasons, !reasons.isEmpty { parts.append("because: \(reasons)") }
        return parts.joined(separator: "; ") + ". Automated screening aid, not a diagnosis: a radiologist reads the images."
    }

    static func concept(_ code: String, _ display: String) -> [String: Any] {
        ["coding": [["system": codeSystem, "code": code, "display": display]], "text": display]
    }

    static func observation(_ id: String, code: String, display: String, value: [String: Any]) -> [String: Any] {
        var o: [String: Any] = ["resourceType": "Observation", "id": id, "status": "final", "code": concept(code, display)]
        o.merge(value) { a, _ in a }
        return o
    }

    static func quantity(_ v: Double, _ scale: SuspicionScale) -> [String: Any] {
        switch scale {
        case .normalDeviation: return ["value": v, "unit": "SD", "system": ucum, "code": "{SD}"]
        case .l5s1Entropy: return nats(v)
        }
    }

    static func nats(_ v: Double) -> [String: Any] { ["value": v, "unit": "nat", "system": ucum, "code": "{nat}"] }
}

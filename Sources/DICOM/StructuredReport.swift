import CDICOM
import Foundation

/// A composite instance by its UIDs.
public struct ReferencedInstance: Sendable, Equatable, Hashable {
    public var sopClassUID: String
    public var sopInstanceUID: String
    public var seriesInstanceUID: String
    public var studyInstanceUID: String
    /// The referenced frame (1-based, Referenced Frame Number) of a multi-frame image; nil for the
    /// whole instance.
    public var frameNumber: Int?

    public init(sopClassUID: String, sopInstanceUID: String, seriesInstanceUID: String, studyInstanceUID: String,
                frameNumber: Int? = nil) {
        self.sopClassUID = sopClassUID
        self.sopInstanceUID = sopInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.studyInstanceUID = studyInstanceUID
        self.frameNumber = frameNumber
    }

    /// The UIDs of a DICOM file (header only).
    public init(file path: String) throws {
        let ds = try DicomDataset(path: path)
        guard let sopClass = ds.text(.sopClassUID), let sop = ds.text(.sopInstanceUID),
              let series = ds.text(.seriesInstanceUID), let study = ds.text(.studyInstanceUID)
        else { throw DICOMError("\(path): SOP class, SOP instance, series or study UID missing") }
        self.init(sopClassUID: sopClass, sopInstanceUID: sop, seriesInstanceUID: series, studyInstanceUID: study)
    }
}

/// One TID 1501 measurement group: one disc level.
public struct LevelMeasurement: Sendable {
    /// e.g. "L5/S1".
    public var trackingIdentifier: String
    public var trackingUID: String
    /// The intervertebral disc (`Codes.disc(forLevel:)`).
    public var findingSite: SRCode
    public var peakConfidence: Double
    public var entropy: Double
    public var spatialEntropy: Double
    /// On the middle slice, ORIGINAL pixel grid, 0-based pixel centres: (0, 0) is the centre of the
    /// top left pixel. Written as SCOORD POINT in DICOM image coordinates (column + 0.5, row + 0.5).
    public var point: (row: Double, column: Double)?

    public init(trackingIdentifier: String, trackingUID: String, findingSite: SRCode, peakConfidence: Double,
                entropy: Double, spatialEntropy: Double, point: (row: Double, column: Double)?) {
        self.trackingIdentifier = trackingIdentifier
        self.trackingUID = trackingUID
        self.findingSite = findingSite
        self.peakConfidence = peakConfidence
        self.entropy = entropy
        self.spatialEntropy = spatialEntropy
        self.point = point
    }

    /// PS3.3 C.18.6.1.1: image coordinates have (0,0) at the top left corner of the top left pixel,
    /// so the centre of pixel (row r, column c), 0-based, is column c + 0.5, row r + 0.5.
    public static func imageCoordinates(row: Double, column: Double) -> (column: Double, row: Double) {
        (column + 0.5, row + 0.5)
    }
}

public enum SRDocumentClass: String, Sendable, Codable, CaseIterable {
    case comprehensive3D = "comprehensive3d"
    case enhanced

    public var sopClassUID: String {
        switch self {
        case .comprehensive3D: return SOPClass.comprehensive3DSRStorage
        case .enhanced: return SOPClass.enhancedSRStorage
        }
    }
}

/// One series-level number of the assessment group.
public struct AssessmentMeasurement: Sendable {
    public var concept: SRCode
    public var unit: SRCode
    public var value: Double
    public init(concept: SRCode, unit: SRCode, value: Double) {
        self.concept = concept
        self.unit = unit
        self.value = value
    }
}

/// The series-level TID 1501 group: the suspicion score, the lumbar count, the junction.
public struct SeriesAssessment: Sendable {
    public var trackingIdentifier: String
    public var trackingUID: String
    public var measurements: [AssessmentMeasurement]
    public init(trackingIdentifier: String, trackingUID: String, measurements: [AssessmentMeasurement]) {
        self.trackingIdentifier = trackingIdentifier
        self.trackingUID = trackingUID
        self.measurements = measurements
    }
}

/// What one TID 1500 Imaging Measurement Report holds. See docs/SR.md for the content tree.
public struct MeasurementReport: Sendable {
    /// A received instance of the analysed series: Patient, General Study, Patient Study modules are copied from it.
    public var sourceInstancePath: String
    /// Every instance the analysis used (CurrentRequestedProcedureEvidenceSequence).
    public var evidence: [ReferencedInstance]
    /// What the SCOORDs reference; the image library entry.
    public var middleSlice: ReferencedInstance
    /// The middle slice's file, when at hand: its header fills the image library entry descriptors
    /// (TID 1602: modality, orientation, position, spacing …). Without it the entry has none.
    public var middleSlicePath: String?
    /// Its model name and software version are required here (TID 1004 device observer).
    public var instance: CreatedInstance
    public var deviceObserverUID: String
    public var deviceObserverName: String
    public var institutionName: String?
    /// TID 4019.
    public var algorithmName: String
    public var algorithmVersion: String
    public var algorithmParameters: [String]
    public var levels: [LevelMeasurement]
    /// "high" | "medium" | "low".
    public var lstvSuspicion: String
    /// "consistent" | "inconsistent" | "incomplete".
    public var ladderConsistency: String
    /// The ladder check's reasons (empty when consistent), each written as a TEXT evaluation.
    public var ladderFindings: [String]
    /// Why the suspicion rose (empty when it did not), each a TEXT evaluation before the ladder's.
    public var suspicionFindings: [String]
    /// The series' instances left out of the analysis, each "UID: reason", a TEXT evaluation after
    /// the ladder's.
    public var exclusionFindings: [String]
    /// The series-level numbers, as one more measurement group (nil: none).
    public var assessment: SeriesAssessment?
    /// A revised report references the one it replaces (PredecessorDocumentsSequence).
    public var predecessor: ReferencedInstance?
    public var documentClass: SRDocumentClass
    /// Procedure reported (TID 1500 row 4).
    public var procedureReported: SRCode

    public init(sourceInstancePath: String, evidence: [ReferencedInstance], middleSlice: ReferencedInstance,
                middleSlicePath: String? = nil, instance: CreatedInstance,
                deviceObserverUID: String, deviceObserverName: String, institutionName: String? = nil,
                algorithmName: String, algorithmVersion: String, algorithmParameters: [String] = [],
                levels: [LevelMeasurement], lstvSuspicion: String, ladderConsistency: String,
                ladderFindings: [String] = [], suspicionFindings: [String] = [], exclusionFindings: [String] = [], assessment: SeriesAssessment? = nil,
                predecessor: ReferencedInstance? = nil, documentClass: SRDocumentClass = .comprehensive3D,
                procedureReported: SRCode = Codes.mrLumbarSpine) {
        self.sourceInstancePath = sourceInstancePath
        self.evidence = evidence
        self.middleSlice = middleSlice
        self.middleSlicePath = middleSlicePath
        self.instance = instance
        self.deviceObserverUID = deviceObserverUID
        self.deviceObserverName = deviceObserverName
        self.institutionName = institutionName
        self.algorithmName = algorithmName
        self.algorithmVersion = algorithmVersion
        self.algorithmParameters = algorithmParameters
        self.levels = levels
        self.lstvSuspicion = lstvSuspicion
        self.ladderConsistency = ladderConsistency
        self.ladderFindings = ladderFindings
        self.suspicionFindings = suspicionFindings
        self.exclusionFindings = exclusionFindings
        self.assessment = assessment
        self.predecessor = predecessor
        self.documentClass = documentClass
        self.procedureReported = procedureReported
    }
}

/// Writes TID 1500 Imaging Measurement Reports (DCMTK's cmr module underneath).
public enum StructuredReportWriter {
    /// Writes `report` as a Part 10 file at `path` (explicit VR little endian). Throws on invalid
    /// input (UIDs, unknown suspicion/ladder values, a value that does not fit a DS) or on a DCMTK error.
    public static func write(_ report: MeasurementReport, to path: String) throws {
        DICOMLibrary.initialize()
        guard report.instance.modelName != nil, report.instance.softwareVersion != nil else {
            throw DICOMError("structured report: the device observer needs a model name and a software version")
        }
        try UID.requireValid(report.instance.uids + [report.deviceObserverUID, report.middleSlice.sopInstanceUID] + report.levels.map(\.trackingUID)
                              + (report.assessment.map { [$0.trackingUID] } ?? []), for: "structured report")
        guard !report.levels.isEmpty else { throw DICOMError("structured report: no levels") }
        guard let suspicion = Codes.suspicion(report.lstvSuspicion) else {
            throw DICOMError("structured report: LSTV suspicion must be high, medium or low, not \"\(report.lstvSuspicion)\"")
        }
        guard let ladder = Codes.ladder(report.ladderConsistency) else {
            throw DICOMError("structured report: ladder consistency must be consistent, inconsistent or incomplete, not \"\(report.ladderConsistency)\"")
        }
        let arena = CStringArena()

        let evidence = report.evidence.map { arena.ref($0) }
        let levels: [cdicom_sr_level] = try report.levels.map { l in
            var c = cdicom_sr_level()
            c.tracking_identifier = arena.c(l.trackingIdentifier)
            c.tracking_uid = arena.c(l.trackingUID)
            c.finding_site = arena.code(l.findingSite)
            c.peak_confidence = arena.c(try decimalString(l.peakConfidence, "peak confidence"))
            c.entropy = arena.c(try decimalString(l.entropy, "entropy"))
            c.spatial_entropy = arena.c(try decimalString(l.spatialEntropy, "spatial entropy"))
            if let p = l.point {
                guard p.row.isFinite, p.column.isFinite else { throw DICOMError("structured report: point is not finite") }
                let xy = LevelMeasurement.imageCoordinates(row: p.row, column: p.column)
                c.has_point = 1
                c.point_column = Float(xy.column)
                c.point_row = Float(xy.row)
            }
            return c
        }
        let parameters = report.algorithmParameters.map { arena.c($0) }
        let findings = report.suspicionFindings.map { cdicom_sr_text(concept: arena.code(Codes.lstvSuspicionFinding), text: arena.c($0)) }
            + report.ladderFindings.map { cdicom_sr_text(concept: arena.code(Codes.levelLadderFinding), text: arena.c($0)) }
            + report.exclusionFindings.map { cdicom_sr_text(concept: arena.code(Codes.excludedInstanceFinding), text: arena.c($0)) }
        let assessment: [cdicom_sr_num] = try (report.assessment?.measurements ?? []).map { m in
            cdicom_sr_num(concept: arena.code(m.concept), unit: arena.code(m.unit),
                          value: arena.c(try decimalString(m.value, m.concept.meaning)))
        }
        let schemes: [cdicom_coding_scheme] = Codes.codingSchemes.map { s in
            cdicom_coding_scheme(designator: arena.c(s.designator), name: arena.c(s.name), uid: arena.c(s.uid),
                                 responsible_organization: arena.c(s.responsibleOrganization),
                                 version: arena.c(s.version))
        }
        var predecessor = report.predecessor.map { arena.ref($0) }

        var r = cdicom_sr_report()
        r.source_path = arena.c(report.sourceInstancePath)
        r.middle_slice_path = arena.c(report.middleSlicePath)
        r.middle_slice = arena.ref(report.middleSlice)
        r.instance = report.instance.c(arena)
        r.device_observer_uid = arena.c(report.deviceObserverUID)
        r.device_observer_name = arena.c(report.deviceObserverName)
        r.institution_name = arena.c(report.institutionName)
        r.algorithm_name = arena.c(report.algorithmName)
        r.algorithm_version = arena.c(report.algorithmVersion)
        r.document_title = arena.code(Codes.imagingMeasurementReport)
        r.language = arena.code(Codes.english)
        r.country = arena.code(Codes.unitedStates)
        r.procedure_reported = arena.code(report.procedureReported)
        r.purpose_of_reference = arena.code(Codes.sourceOfMeasurement)
        r.peak_confidence_concept = arena.code(Codes.peakConfidence)
        r.peak_confidence_unit = arena.code(Codes.noUnits)
        r.entropy_concept = arena.code(Codes.entropy)
        r.entropy_unit = arena.code(Codes.nat)
        r.spatial_entropy_concept = arena.code(Codes.spatialEntropy)
        r.spatial_entropy_unit = arena.code(Codes.nat)
        r.suspicion_concept = arena.code(Codes.lstvSuspicion)
        r.suspicion_value = arena.code(suspicion)
        r.ladder_concept = arena.code(Codes.levelLadderConsistency)
        r.ladder_value = arena.code(ladder)
        r.assessment_tracking_identifier = arena.c(report.assessment?.trackingIdentifier)
        r.assessment_tracking_uid = arena.c(report.assessment?.trackingUID)
        r.equipment_purpose = arena.code(Codes.processingEquipment)
        r.enhanced = report.documentClass == .enhanced ? 1 : 0

        var err = [CChar](repeating: 0, count: 1024)
        let rc: Int32 = evidence.withUnsafeBufferPointer { ev in
            levels.withUnsafeBufferPointer { lv in
                parameters.withUnsafeBufferPointer { pa in
                    findings.withUnsafeBufferPointer { fi in
                      assessment.withUnsafeBufferPointer { asm in
                        schemes.withUnsafeBufferPointer { sc in
                            withOptionalPointer(&predecessor) { pred in
                                r.evidence = ev.baseAddress; r.evidence_count = ev.count
                                r.levels = lv.baseAddress; r.level_count = lv.count
                                r.algorithm_parameters = pa.baseAddress; r.algorithm_parameter_count = pa.count
                                r.findings = fi.baseAddress; r.finding_count = fi.count
                                r.assessment = asm.baseAddress; r.assessment_count = asm.count
                                r.coding_schemes = sc.baseAddress; r.coding_scheme_count = sc.count
                                r.predecessor = pred
                                return cdicom_sr_write(&r, path, &err, err.count)
                            }
                        }
                      }
                    }
                }
            }
        }
        guard rc == 0 else { throw DICOMError("structured report: " + String(cString: err)) }
    }

    /// A DS value (at most 16 characters) with 10 significant digits.
    static func decimalString(_ v: Double, _ what: String) throws -> String {
        guard v.isFinite else { throw DICOMError("structured report: \(what) is not finite") }
        var s = String(format: "%.10g", v)
        if s.count > 16 { s = String(format: "%.9g", v) }
        return s
    }
}

/// The attributes DICOMweb answers carry (PS3.18 F.2, the DICOM JSON model) with their tags,
/// keywords and value representations. A search names them by keyword or by tag.
enum Attribute: String, CaseIterable, Sendable {
    case sopClassUID = "00080016", sopInstanceUID = "00080018", studyDate = "00080020", accessionNumber = "00080050"
    case modality = "00080060", modalitiesInStudy = "00080061", seriesDescription = "0008103E", retrieveURL = "00081190"
    case patientID = "00100020", studyInstanceUID = "0020000D", seriesInstanceUID = "0020000E", seriesNumber = "00200011"
    case instanceNumber = "00200013", numberOfStudyRelatedSeries = "00201206", numberOfStudyRelatedInstances = "00201208"
    case numberOfSeriesRelatedInstances = "00201209"

    /// The tag as DICOM JSON keys it: eight upper-case hex digits.
    var tag: String { rawValue }

    var keyword: String {
        switch self {
        case .sopClassUID: return "SOPClassUID"
        case .sopInstanceUID: return "SOPInstanceUID"
        case .studyDate: return "StudyDate"
        case .accessionNumber: return "AccessionNumber"
        case .modality: return "Modality"
        case .modalitiesInStudy: return "ModalitiesInStudy"
        case .seriesDescription: return "SeriesDescription"
        case .retrieveURL: return "RetrieveURL"
        case .patientID: return "PatientID"
        case .studyInstanceUID: return "StudyInstanceUID"
        case .seriesInstanceUID: return "SeriesInstanceUID"
        case .seriesNumber: return "SeriesNumber"
        case .instanceNumber: return "InstanceNumber"
        case .numberOfStudyRelatedSeries: return "NumberOfStudyRelatedSeries"
        case .numberOfStudyRelatedInstances: return "NumberOfStudyRelatedInstances"
        case .numberOfSeriesRelatedInstances: return "NumberOfSeriesRelatedInstances"
        }
    }

    var vr: String {
        switch self {
        case .sopClassUID, .sopInstanceUID, .studyInstanceUID, .seriesInstanceUID: return "UI"
        case .studyDate: return "DA"
        case .accessionNumber: return "SH"
        case .modality, .modalitiesInStudy: return "CS"
        case .seriesDescription, .patientID: return "LO"
        case .retrieveURL: return "UR"
        case .seriesNumber, .instanceNumber, .numberOfStudyRelatedSeries, .numberOfStudyRelatedInstances,
             .numberOfSeriesRelatedInstances: return "IS"
        }
    }

    /// The attribute a search parameter names: its keyword or its tag (hex, either case).
    init?(parameter: String) {
        if let byTag = Attribute(rawValue: parameter.uppercased()) { self = byTag; return }
        guard let byKeyword = Attribute.allCases.first(where: { $0.keyword == parameter }) else { return nil }
        self = byKeyword
    }
}

/// One DICOM JSON object (a data set): attributes by tag, each `{"vr": …, "Value": […]}`. An
/// absent value leaves the attribute out rather than sending an empty one.
struct DicomJSONObject {
    private(set) var attributes: [String: Any] = [:]

    mutating func set(_ attribute: Attribute, _ value: String?) {
        guard let value, !value.isEmpty else { return }
        attributes[attribute.tag] = ["vr": attribute.vr, "Value": [value]]
    }

    mutating func set(_ attribute: Attribute, _ values: [String]) {
        guard !values.isEmpty else { return }
        attributes[attribute.tag] = ["vr": attribute.vr, "Value": values]
    }

    /// IS values travel as JSON numbers (PS3.18 F.2.3).
    mutating func set(_ attribute: Attribute, _ value: Int?) {
        guard let value else { return }
        attributes[attribute.tag] = ["vr": attribute.vr, "Value": [value]]
    }
}

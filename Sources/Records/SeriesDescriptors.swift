/// Series-level attributes the router reads (taken from the series' first instance). Read from
/// DICOM by the node, kept by the index, judged by the routing rules.
public struct SeriesDescriptors: Sendable, Equatable, Codable {
    public var patientID: String?
    public var accessionNumber: String?
    public var studyDate: String?
    public var modality: String?
    public var seriesDescription: String?
    public var protocolName: String?
    public var seriesNumber: Int?
    public var imageType: [String]
    public var imageOrientationPatient: [Double]?
    public var echoTime: Double?
    public var repetitionTime: Double?
    public var sliceThickness: Double?

    public init(patientID: String? = nil, accessionNumber: String? = nil, studyDate: String? = nil, modality: String? = nil,
                seriesDescription: String? = nil, protocolName: String? = nil, seriesNumber: Int? = nil,
                imageType: [String] = [], imageOrientationPatient: [Double]? = nil, echoTime: Double? = nil,
                repetitionTime: Double? = nil, sliceThickness: Double? = nil) {
        self.patientID = patientID; self.accessionNumber = accessionNumber; self.studyDate = studyDate
        self.modality = modality; self.seriesDescription = seriesDescription; self.protocolName = protocolName
        self.seriesNumber = seriesNumber; self.imageType = imageType
        self.imageOrientationPatient = imageOrientationPatient; self.echoTime = echoTime
        self.repetitionTime = repetitionTime; self.sliceThickness = sliceThickness
    }
}

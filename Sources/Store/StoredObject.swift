import Foundation

/// One DICOM object the node holds as a file, as DICOMweb's search and retrieve see it: a received
/// instance (`instances` with its `series`) or one the node made (`results`, in the analysed study).
public struct StoredObject: Sendable, Equatable {
    /// Where the object came from: received from a modality or PACS, or made by the node.
    public enum Origin: Sendable, Equatable {
        case received
        case result(ResultKind)
    }

    public var origin: Origin
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var sopClassUID: String
    public var path: String
    /// Known for received instances (the index keeps it); a result's is in its file.
    public var transferSyntaxUID: String?
    public var instanceNumber: Int?
    public var patientID: String?
    public var accessionNumber: String?
    public var studyDate: String?
    /// Series attributes: from the `series` row for a received instance; nil for a result (its file
    /// has them, written from the node's configuration).
    public var modality: String?
    public var seriesDescription: String?
    public var seriesNumber: Int?

    public init(origin: Origin, studyInstanceUID: String, seriesInstanceUID: String, sopInstanceUID: String, sopClassUID: String,
                path: String, transferSyntaxUID: String? = nil, instanceNumber: Int? = nil, patientID: String? = nil,
                accessionNumber: String? = nil, studyDate: String? = nil, modality: String? = nil,
                seriesDescription: String? = nil, seriesNumber: Int? = nil) {
        self.origin = origin; self.studyInstanceUID = studyInstanceUID; self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUID = sopInstanceUID; self.sopClassUID = sopClassUID; self.path = path
        self.transferSyntaxUID = transferSyntaxUID; self.instanceNumber = instanceNumber; self.patientID = patientID
        self.accessionNumber = accessionNumber; self.studyDate = studyDate; self.modality = modality
        self.seriesDescription = seriesDescription; self.seriesNumber = seriesNumber
    }
}

/// Exact-match keys for finding stored objects (nil = any). UIDs, accession and patient ID are
/// compared as stored; wildcards are not taken.
public struct ObjectQuery: Sendable, Equatable {
    public var studyInstanceUID: String?
    public var seriesInstanceUID: String?
    public var sopInstanceUID: String?
    public var modality: String?
    public var accessionNumber: String?
    public var patientID: String?

    public init(studyInstanceUID: String? = nil, seriesInstanceUID: String? = nil, sopInstanceUID: String? = nil,
                modality: String? = nil, accessionNumber: String? = nil, patientID: String? = nil) {
        self.studyInstanceUID = studyInstanceUID; self.seriesInstanceUID = seriesInstanceUID; self.sopInstanceUID = sopInstanceUID
        self.modality = modality; self.accessionNumber = accessionNumber; self.patientID = patientID
    }
}

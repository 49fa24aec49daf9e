import DICOM
import Foundation
import Records
import Store

/// The attributes the node reads from a received file, and the checks that decide its status.
struct InstanceHeader {
    let sopClassUID: String
    let sopInstanceUID: String
    let studyInstanceUID: String
    let seriesInstanceUID: String
    let transferSyntaxUID: String
    let instanceNumber: Int?
    let descriptors: SeriesDescriptors

    enum Problem: Error, CustomStringConvertible {
        case unreadable(String)
        case missing(String)
        case invalidUID(String)
        case sopClassMismatch
        case sopInstanceMismatch

        var status: DIMSEStatus {
            switch self {
            case .unreadable: return .cannotUnderstand
            case .missing, .invalidUID, .sopClassMismatch: return .dataSetDoesNotMatchSOPClass
            case .sopInstanceMismatch: return .cannotUnderstand
            }
        }
        var description: String {
            switch self {
            case .unreadable(let m): return "data set unreadable: \(m)"
            case .missing(let a): return "\(a) missing"
            case .invalidUID(let a): return "\(a) is not a valid UID"
            case .sopClassMismatch: return "SOPClassUID differs from the C-STORE AffectedSOPClassUID"
            case .sopInstanceMismatch: return "SOPInstanceUID differs from the C-STORE AffectedSOPInstanceUID"
            }
        }
    }

    /// Reads and checks a file. An enhanced multi-frame image keeps orientation, TE, TR and slice
    /// thickness in its functional groups rather than at the top level: the routing descriptors
    /// then come from frame 1's (shared or per-frame) groups, which describe the stack analysed
    /// when the instance holds one (`EnhancedFrames`). `expected` holds the command's affected SOP class and instance
    /// when the file came over the network.
    static func read(path: String, expected: (sopClass: String, sopInstance: String)?) throws -> InstanceHeader {
        let ds: DicomDataset
        do { ds = try DicomDataset(path: path, headerOnly: true) } catch { throw Problem.unreadable("\(error)") }
        func uid(_ tag: Tag, _ name: String) throws -> String {
            guard let v = ds.text(tag) else { throw Problem.missing(name) }
            guard UID.isValid(v) else { throw Problem.invalidUID(name) }
            return v
        }
        let sopClass = try uid(.sopClassUID, "SOPClassUID")
        let sop = try uid(.sopInstanceUID, "SOPInstanceUID")
        let study = try uid(.studyInstanceUID, "StudyInstanceUID")
        let series = try uid(.seriesInstanceUID, "SeriesInstanceUID")
        if let expected {
            if expected.sopClass != sopClass { throw Problem.sopClassMismatch }
            if expected.sopInstance != sop { throw Problem.sopInstanceMismatch }
        }
        let d = SeriesDescriptors(
            patientID: ds.text(.patientID), accessionNumber: ds.text(.accessionNumber), studyDate: ds.text(.studyDate),
            modality: ds.text(.modality), seriesDescription: ds.text(.seriesDescription), protocolName: ds.text(.protocolName),
            seriesNumber: ds.int(.seriesNumber), imageType: ds.strings(.imageType).filter { !$0.isEmpty },
            imageOrientationPatient: ds.doubles(.imageOrientationPatient) ?? ds.frameDoubles(0, .planeOrientationSequence, .imageOrientationPatient),
            echoTime: ds.double(.echoTime) ?? ds.frameDoubles(0, .mrEchoSequence, .effectiveEchoTime)?.first,
            repetitionTime: ds.double(.repetitionTime) ?? ds.frameDoubles(0, .mrTimingAndRelatedParametersSequence, .repetitionTime)?.first,
            sliceThickness: ds.double(.sliceThickness) ?? ds.frameDoubles(0, .pixelMeasuresSequence, .sliceThickness)?.first)
        return InstanceHeader(sopClassUID: sopClass, sopInstanceUID: sop, studyInstanceUID: study, seriesInstanceUID: series,
                              transferSyntaxUID: ds.text(.transferSyntaxUID) ?? TransferSyntax.explicitVRLittleEndian,
                              instanceNumber: ds.int(.instanceNumber), descriptors: d)
    }

    func record(path: String, bytes: Int64, receivedAt: Date, callingAETitle: String?) -> InstanceRecord {
        InstanceRecord(sopInstanceUID: sopInstanceUID, seriesInstanceUID: seriesInstanceUID, studyInstanceUID: studyInstanceUID,
                       sopClassUID: sopClassUID, transferSyntaxUID: transferSyntaxUID, instanceNumber: instanceNumber,
                       path: path, bytes: bytes, receivedAt: receivedAt, callingAETitle: callingAETitle, series: descriptors)
    }
}

func fileSize(_ path: String) -> Int64 {
    var st = stat()
    return stat(path, &st) == 0 ? Int64(st.st_size) : 0
}

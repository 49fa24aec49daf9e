import Analysis
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
    /// thickness in its functional groups rather than at the top level, per stack: the routing
    /// descriptors are then those of the stack `stackChoice` picks (`EnhancedFrames.stacks`), the
    /// one the analysis reads (`Router.stackChoice` for both in the node). `expected` holds the
    /// command's affected SOP class and instance when the file came over the network.
    static func read(path: String, expected: (sopClass: String, sopInstance: String)?,
                     stackChoice: StackChoice = EnhancedFrames.largestStack) throws -> InstanceHeader {
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
        var d = SeriesDescriptors(topLevelOf: ds)
        if EnhancedFrames.isEnhanced(ds) {
            let stacks = EnhancedFrames.stacks(ds, frames: max(1, ds.int(.numberOfFrames) ?? 1))
            d = stacks[stackChoice(stacks)].descriptors
        }
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

import DICOM
import Foundation
import Logging
import Store

/// Every object the node can serve over DICOMweb: the received instances the index knows and the
/// SRs and key images the node made. A result's series attributes are read from its file's header
/// (they come from the node's configuration when it was written, and no table repeats them).
struct ObjectCatalog: Sendable {
    let index: InstanceIndex
    let pipeline: Pipeline
    let logger: Logger

    /// Received instances first (study, series and instance order), then results, oldest first.
    /// A result whose file is gone or unreadable is left out (it cannot be retrieved either), and logged.
    func objects(matching query: ObjectQuery) throws -> [StoredObject] {
        var all = try index.objects(matching: query)
        for var result in try pipeline.resultObjects(matching: query) {
            let header: DicomDataset
            do { header = try DicomDataset(path: result.path, headerOnly: true) } catch {
                logger.warning("dicomweb: a result's file is not readable; left out",
                               metadata: ["sop_instance_uid": "\(result.sopInstanceUID)", "error": "\(error)"])
                continue
            }
            result.modality = header.text(.modality)
            result.seriesDescription = header.text(.seriesDescription)
            result.seriesNumber = header.int(.seriesNumber)
            result.instanceNumber = header.int(.instanceNumber)
            result.transferSyntaxUID = header.text(.transferSyntaxUID)
            if let modality = query.modality, result.modality != modality { continue }
            all.append(result)
        }
        return all
    }

    /// Why a retrieve of `series` found nothing, when its received files were purged by the
    /// retention sweep (nil otherwise): the 404 says so instead of "no such series".
    func purgedNotice(seriesInstanceUID: String?) throws -> String? {
        guard let uid = seriesInstanceUID, let s = try index.series(uid: uid), s.state == .purged else { return nil }
        let when = s.purgedAt.map(Timestamp.iso8601) ?? "an unknown time"
        return "the received instances of series \(uid) were purged at \(when) (\(s.purgeReason?.rawValue ?? "retention"))"
    }
}

import Crypto
import Foundation

/// The subjects a model was trained on, as its file records them (metadata `training`,
/// `train_subjects_sha256`: SHA-256 of each subject ID). Thresholds must be set on cases the model
/// never saw, so `calibrate` refuses these.
public struct TrainingSubjects: Sendable {
    public let hashes: Set<String>

    public init(hashes: Set<String>) { self.hashes = hashes }

    /// From a model file's metadata; empty when the model records none (a converted checkpoint).
    public init(metadata: [String: String]) throws {
        guard let text = metadata["training"] else { self.init(hashes: []); return }
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw CohortError("the model's training metadata is not a JSON object")
        }
        self.init(hashes: Set(object["train_subjects_sha256"] as? [String] ?? []))
    }

    /// A subject ID as the training data spells it: lower case, every other character an
    /// underscore (the DICOM Patient ID "FCS-IVD-11" is the subject "fcs_ivd_11").
    public static func subjectID(patientID: String) -> String {
        String(patientID.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    public func contains(patientID: String?) -> Bool {
        guard let patientID, !patientID.isEmpty else { return false }
        let digest = SHA256.hash(data: Array(Self.subjectID(patientID: patientID).utf8))
        return hashes.contains(digest.map { String(format: "%02x", $0) }.joined())
    }
}

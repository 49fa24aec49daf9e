import Foundation
import Hummingbird

/// STOW-RS (PS3.18 10.5): `POST /dicomweb/studies`, a `multipart/related; type="application/dicom"`
/// body of Part 10 instances. Each goes through the node's ingest like a C-STORE; the response
/// lists what was stored (ReferencedSOPSequence) and what failed with its DIMSE status as the
/// FailureReason (FailedSOPSequence): 200 all stored, 202 some, 409 none, 503 when the disk is
/// below the refusal threshold (nothing read).
struct STOW {
    let receiver: any InstanceReceiver
    /// The largest body taken, in bytes (`http.max_upload_mb`).
    let maxBody: Int

    func add(to router: Router<WebContext>, tokens: TokenStore, sessions: SessionStore) {
        router.group("dicomweb").add(middleware: Authenticator(tokens: tokens, sessions: sessions, minimum: .viewer)).post("studies", use: store)
    }

    enum Tag {
        static let retrieveURL = "00081190", failedSOPSequence = "00081198", referencedSOPSequence = "00081199"
        static let referencedSOPClassUID = "00081150", referencedSOPInstanceUID = "00081155", failureReason = "00081197"
    }

    func store(_ request: Request, _ context: WebContext) async throws -> Response {
        guard let contentType = request.headers[.contentType], contentType.lowercased().hasPrefix("multipart/related") else {
            throw HTTPError(.unsupportedMediaType, message: "STOW-RS takes multipart/related; type=\"application/dicom\"")
        }
        let parameters = MultipartRelated.parameters(of: contentType)
        if let type = parameters["type"], type.lowercased() != "application/dicom" {
            throw HTTPError(.unsupportedMediaType, message: "only application/dicom parts are taken, not \(type)")
        }
        guard let boundary = parameters["boundary"] else { throw HTTPError(.badRequest, message: "Content-Type has no boundary") }
        guard !receiver.refusesForLackOfDisk else {
            var headers = HTTPFields()
            headers[.retryAfter] = "300"
            return try JSONBody.problem(.serviceUnavailable, "free disk space below minimum_free_disk_mb: nothing stored", headers: headers)
        }
        let body: [UInt8]
        do { body = Array(buffer: try await request.body.collect(upTo: maxBody)) } catch {
            throw HTTPError(.contentTooLarge, message: "the upload is larger than http.max_upload_mb")
        }
        let parts: [MultipartRelated.Part]
        do { parts = try MultipartRelated.parts(body, boundary: boundary) } catch { throw HTTPError(.badRequest, message: "\(error)") }
        guard !parts.isEmpty else { throw HTTPError(.badRequest, message: "no parts") }

        let uploader = context.identity?.name ?? "unknown"
        var outcomes: [UploadOutcome] = []
        for part in parts {
            if let type = part.headers["content-type"], !type.lowercased().hasPrefix("application/dicom") {
                outcomes.append(UploadOutcome(status: 0x0122, sopClassUID: nil, sopInstanceUID: nil, studyInstanceUID: nil,
                                              reason: "part is \(type), not application/dicom"))
                continue
            }
            let path = receiver.temporaryPath()
            guard FileManager.default.createFile(atPath: path, contents: Data(part.body)) else {
                outcomes.append(UploadOutcome(status: 0x0110, sopClassUID: nil, sopInstanceUID: nil, studyInstanceUID: nil,
                                              reason: "cannot write the spool's temporary file"))
                continue
            }
            outcomes.append(receiver.receive(temporaryPath: path, uploader: uploader))
        }
        receiver.uploadFinished(outcomes, uploader: uploader)
        return try JSONBody.response(responseObject(outcomes, request: request),
                                     status: outcomes.allSatisfy(\.stored) ? .ok : outcomes.contains(where: \.stored) ? .accepted : .conflict,
                                     contentType: "application/dicom+json")
    }

    func responseObject(_ outcomes: [UploadOutcome], request: Request) -> [String: Any] {
        func ui(_ v: String?) -> [String: Any] { v.map { ["vr": "UI", "Value": [$0]] } ?? ["vr": "UI"] }
        let base = request.baseURL
        var o: [String: Any] = [:]
        let stored = outcomes.filter(\.stored), failed = outcomes.filter { !$0.stored }
        if !stored.isEmpty {
            o[Tag.referencedSOPSequence] = ["vr": "SQ", "Value": stored.map { s -> [String: Any] in
                var item: [String: Any] = [Tag.referencedSOPClassUID: ui(s.sopClassUID), Tag.referencedSOPInstanceUID: ui(s.sopInstanceUID)]
                if let study = s.studyInstanceUID, let series = s.seriesInstanceUID, let sop = s.sopInstanceUID {
                    item[Tag.retrieveURL] = ["vr": "UR", "Value": ["\(base)/dicomweb/studies/\(study)/series/\(series)/instances/\(sop)"]]
                }
                return item
            }]
            if let study = stored.first?.studyInstanceUID, stored.allSatisfy({ $0.studyInstanceUID == study }) {
                o[Tag.retrieveURL] = ["vr": "UR", "Value": ["\(base)/dicomweb/studies/\(study)"]]
            }
        }
        if !failed.isEmpty {
            o[Tag.failedSOPSequence] = ["vr": "SQ", "Value": failed.map { f -> [String: Any] in
                [Tag.referencedSOPClassUID: ui(f.sopClassUID), Tag.referencedSOPInstanceUID: ui(f.sopInstanceUID),
                 Tag.failureReason: ["vr": "US", "Value": [Int(f.status)]]]
            }]
        }
        return o
    }
}

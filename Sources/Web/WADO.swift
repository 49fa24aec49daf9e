import Foundation
import Hummingbird
import Logging
import Store

/// WADO-RS (PS3.18 10.4): a study, a series or one instance as `multipart/related;
/// type="application/dicom"`, each part a Part 10 file exactly as stored (received instances as
/// the sender's bytes, the node's SR and key image as written), streamed from disk. The node does
/// not transcode: asking for another transfer syntax than the stored one is 406.
struct WADO {
    let catalog: ObjectCatalog
    let logger: Logger

    func add(to group: RouterGroup<WebContext>) {
        group.get("studies/{study}", use: retrieve)
        group.get("studies/{study}/series/{series}", use: retrieve)
        group.get("studies/{study}/series/{series}/instances/{instance}", use: retrieve)
    }

    static let partType = "application/dicom"
    /// Read size when streaming a file: large enough to keep the socket busy, small enough to
    /// hold many responses at once.
    static let chunkBytes = 256 * 1024

    /// A file to send and what its part header says.
    struct Part: Sendable {
        var path: String
        var bytes: Int
        var transferSyntaxUID: String?
    }

    func retrieve(_ request: Request, _ context: WebContext) async throws -> Response {
        let match = ObjectQuery(studyInstanceUID: try context.uid("study"), seriesInstanceUID: try context.uid("series"),
                                sopInstanceUID: try context.uid("instance"))
        let parts = try catalog.objects(matching: match).compactMap { o -> Part? in
            // A file gone since it was indexed (purged meanwhile) is not offered; the log says why.
            let size: Int
            do {
                guard let s = try FileManager.default.attributesOfItem(atPath: o.path)[.size] as? Int else { throw WebError("no size") }
                size = s
            } catch {
                logger.warning("wado: indexed file not readable; left out",
                               metadata: ["sop_instance_uid": "\(o.sopInstanceUID)", "error": "\(error)"])
                return nil
            }
            return Part(path: o.path, bytes: size, transferSyntaxUID: o.transferSyntaxUID)
        }
        guard !parts.isEmpty else {
            throw HTTPError(.notFound, message: try catalog.purgedNotice(seriesInstanceUID: match.seriesInstanceUID)
                                ?? "no such study, series or instance here")
        }
        let syntaxes = Set(parts.compactMap(\.transferSyntaxUID))
        guard AcceptHeader(request.headers[.accept]).acceptsMultipart(of: Self.partType, storedTransferSyntaxes: syntaxes) else {
            throw HTTPError(.notAcceptable, message: "retrieve answers multipart/related; type=\"application/dicom\" in the stored transfer syntax")
        }
        let writer = MultipartWriter(boundary: MultipartWriter.randomBoundary(), type: Self.partType)
        var headers = HTTPFields()
        headers[.contentType] = writer.contentType
        let length = writer.length(of: parts.map { ($0.bytes, $0.transferSyntaxUID) })
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: length) { out in
            for part in parts {
                try await out.write(ByteBuffer(bytes: writer.partHeader(transferSyntaxUID: part.transferSyntaxUID)))
                try await Self.stream(part, to: &out)
                try await out.write(ByteBuffer(bytes: MultipartWriter.partEnd))
            }
            try await out.write(ByteBuffer(bytes: writer.closeDelimiter))
            try await out.finish(nil)
        })
    }

    /// The file's bytes in chunks; exactly `part.bytes` of them, since the Content-Length promised so.
    static func stream(_ part: Part, to out: inout any ResponseBodyWriter) async throws {
        guard let handle = FileHandle(forReadingAtPath: part.path) else { throw WebError("cannot open an indexed file") }
        // Closing a file opened only for reading cannot lose data; the bytes are all written by then.
        defer { try? handle.close() }
        var left = part.bytes
        while left > 0 {
            let data = handle.readData(ofLength: min(chunkBytes, left))
            guard !data.isEmpty else { throw WebError("an indexed file is shorter than when listed") }
            left -= data.count
            try await out.write(ByteBuffer(bytes: data))
        }
    }
}

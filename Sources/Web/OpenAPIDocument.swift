import Foundation
import Hummingbird

/// `GET /api/v1/openapi.yaml`: the API's OpenAPI 3 document (`Sources/Web/openapi.yaml`, which
/// `docs/openapi.yaml` links to), a resource of this module read from the `lstv-node_Web.resources`
/// folder beside the binary. No token: the document holds no data.
enum OpenAPIDocument {
    static let resourceFolder = "lstv-node_Web.resources"

    /// The document's bytes, or why there are none (not installed beside the binary, unreadable).
    static let bytes: Result<[UInt8], WebError> = {
        let candidates = [Bundle.main.bundleURL, Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent()]
        for base in candidates.compactMap({ $0 }) {
            let url = base.appendingPathComponent(resourceFolder).appendingPathComponent("openapi.yaml")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            do { return .success([UInt8](try Data(contentsOf: url))) } catch {
                return .failure(WebError("cannot read \(url.path): \(error.localizedDescription)"))
            }
        }
        return .failure(WebError("openapi.yaml is not installed: copy \(resourceFolder) beside the lstv-node binary"))
    }()

    static func add(to router: Router<WebContext>) {
        router.get("api/v1/openapi.yaml") { _, _ -> Response in
            let bytes: [UInt8]
            switch Self.bytes {
            case .success(let b): bytes = b
            case .failure(let why): throw HTTPError(.internalServerError, message: why.description)
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}

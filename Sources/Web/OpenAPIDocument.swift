import Foundation
import Hummingbird

/// `GET /api/v1/openapi.yaml`: the API's OpenAPI 3 document (`Sources/Web/openapi.yaml`, which
/// `docs/openapi.yaml` links to), a resource of this module read from the `lstv-node_Web.resources`
/// folder beside the binary. No token: the document holds no data.
enum OpenAPIDocument {
    static let resourceFolder = "lstv-node_Web.resources"

    /// The document's bytes, nil when the resource folder was not installed beside the binary.
    static let bytes: [UInt8]? = {
        let candidates = [Bundle.main.bundleURL, Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent()]
        for base in candidates.compactMap({ $0 }) {
            if let data = try? Data(contentsOf: base.appendingPathComponent(resourceFolder).appendingPathComponent("openapi.yaml")) {
                return [UInt8](data)
            }
        }
        return nil
    }()

    static func add(to router: Router<WebContext>) {
        router.get("api/v1/openapi.yaml") { _, _ -> Response in
            guard let bytes else {
                throw HTTPError(.internalServerError, message: "openapi.yaml is not installed: copy \(resourceFolder) beside the lstv-node binary")
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}

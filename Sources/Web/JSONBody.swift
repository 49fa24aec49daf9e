import Foundation
import Hummingbird

/// JSON responses: objects from `JSONSerialization` (typed database rows), sorted keys; problems as
/// `{"error": …, "status": …}`.
enum JSONBody {
    static func response(_ object: Any, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:],
                         contentType: String = "application/json") throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        var headers = headers
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func problem(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) throws -> Response {
        try response(["error": message, "status": status.code], status: status, headers: headers)
    }
}

import DICOM
import Hummingbird

extension Request {
    /// The node's own address as the client reached it, for RetrieveURL values.
    var baseURL: String { head.authority.map { "http://\($0)" } ?? "" }
}

extension WebContext {
    /// A UID from the path (`{study}`, `{series}`, `{instance}`), nil when the route has none; a
    /// malformed one is a 400, never a query.
    func uid(_ name: String) throws -> String? {
        guard let value = parameters.get(name) else { return nil }
        guard UID.isValid(value) else { throw HTTPError(.badRequest, message: "\(name): not a valid UID") }
        return value
    }
}

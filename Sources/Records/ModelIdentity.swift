/// Which model an analysis is for: queued with the job, reported with the result. The SHA-256 of
/// the file is the identity; name and version are what people read.
public struct ModelIdentity: Sendable, Equatable, Codable {
    public var name: String
    public var version: String
    public var sha256: String
    public init(name: String, version: String, sha256: String) { self.name = name; self.version = version; self.sha256 = sha256 }
}

/// A remote DICOM application entity: a configured peer, and where a result is delivered.
public struct DicomPeer: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    public var aeTitle: String
    public var host: String
    public var port: Int
    /// DICOM TLS to this peer; nil: plain TCP. Configuration only: the outbox stores the address,
    /// and the sender looks the settings up by it (`sameAddress`).
    public var tls: TLSSettings?
    public init(aeTitle: String, host: String, port: Int, tls: TLSSettings? = nil) {
        self.aeTitle = aeTitle; self.host = host; self.port = port; self.tls = tls
    }
    enum CodingKeys: String, CodingKey { case aeTitle = "ae_title", host, port, tls }

    /// Same AE title, host and port (TLS settings aside).
    public func sameAddress(_ other: DicomPeer) -> Bool {
        aeTitle == other.aeTitle && host == other.host && port == other.port
    }

    /// `AE@HOST:PORT`, as `serve --destination` takes it: an AE title of 1 to 16 characters, a
    /// host, a port 1…65535.
    public init(parsing text: String) throws {
        guard let at = text.firstIndex(of: "@"), let colon = text.lastIndex(of: ":"), at < colon else {
            throw DicomPeerSyntaxError(text: text)
        }
        let ae = String(text[..<at]), host = String(text[text.index(after: at)..<colon])
        guard (1...16).contains(ae.count), !host.isEmpty, let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { throw DicomPeerSyntaxError(text: text) }
        self.init(aeTitle: ae, host: host, port: port)
    }

    public var description: String { "\(aeTitle)@\(host):\(port)" }
}

public struct DicomPeerSyntaxError: Error, CustomStringConvertible {
    public let text: String
    public var description: String { "destination must be AE@HOST:PORT: \(text)" }
}

import Foundation

/// RFC 5424 framing of an audit message, as IHE ATNA (ITI-20) sends it: facility 10 (security/
/// authorization), severity 5 (notice), MSGID `IHE+RFC-3881`, no structured data, the XML after a
/// UTF-8 byte order mark.
enum SyslogRecord {
    static let priority = 10 * 8 + 5
    static let messageID = "IHE+RFC-3881"
    static let appName = "lstv-node"

    static func frame(_ xml: String, time: Date, host: String, processID: Int32) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return "<\(priority)>1 \(f.string(from: time)) \(host) \(appName) \(processID) \(messageID) - \u{FEFF}\(xml)"
    }
}

/// Where audit records also go over the network: a syslog collector over UDP (RFC 5426), one
/// record per datagram. (TLS syslog, RFC 5425, is the site's relay's job: point this at a local
/// rsyslog that forwards over TLS.)
public struct SyslogDestination: Sendable, Equatable {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) { self.host = host; self.port = port }

    /// `HOST:PORT`.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
        let host = String(text[..<colon])
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }
}

/// A connected UDP socket to the collector.
final class SyslogSocket {
    private let fd: Int32

    init(_ d: SyslogDestination) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(d.host, String(d.port), &hints, &info)
        guard rc == 0, let first = info else {
            throw AuditError("audit.syslog: cannot resolve \(d.host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(info) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw AuditError("audit.syslog: socket: \(String(cString: strerror(errno)))") }
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw AuditError("audit.syslog: cannot reach \(d.host):\(d.port): \(why)")
        }
        self.fd = fd
    }

    func send(_ record: String) throws {
        let bytes = Array(record.utf8)
        let sent = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { throw AuditError("syslog send: \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }
}

public struct AuditError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

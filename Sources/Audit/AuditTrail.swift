import Foundation
import Logging

/// The node's audit trail: DICOM audit messages (PS3.15 A.5) as RFC 5424 records, appended to a
/// dedicated file (one record per line, flushed to disk per record: audit events are per
/// association, delivery or sign-in, not per instance) and, when configured, sent to a syslog
/// collector. Kept apart from the operational log, which carries no patient data; this file does,
/// so it is created readable by the node's user and group only.
public final class AuditTrail: @unchecked Sendable {
    public let source: AuditSource
    public let path: String
    private let fd: Int32
    private let syslog: SyslogSocket?
    private let lock = NSLock()
    private let logger: Logger
    private let host = ProcessInfo.processInfo.hostName
    private let processID = ProcessInfo.processInfo.processIdentifier

    /// Opens (creates) the file and resolves the collector; either failing stops the node's start.
    public init(source: AuditSource, path: String, syslog: SyslogDestination?, logger: Logger) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw AuditError("audit.file: cannot create \(dir): \(error)")
            }
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw AuditError("audit.file: cannot open \(path): \(String(cString: strerror(errno)))") }
        do { self.syslog = try syslog.map(SyslogSocket.init) } catch { close(fd); throw error }
        self.fd = fd
        self.source = source
        self.path = path
        self.logger = logger
    }

    deinit { close(fd) }

    /// Appends the record and sends it. A failure is logged (without the record, which may carry
    /// patient data) and does not stop the work it describes.
    public func record(_ message: AuditMessage) {
        let line = SyslogRecord.frame(message.xml(source: source), time: message.time, host: host, processID: processID)
        lock.lock()
        defer { lock.unlock() }
        let bytes = Array((line + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written != bytes.count || fdatasync(fd) != 0 {
            logger.error("audit record not written", metadata: ["event": "\(message.event.code.text)", "file": "\(path)",
                                                                "error": "\(String(cString: strerror(errno)))"])
        }
        if let syslog {
            do { try syslog.send(line) } catch {
                logger.error("audit record not sent to syslog", metadata: ["event": "\(message.event.code.text)", "error": "\(error)"])
            }
        }
    }
}

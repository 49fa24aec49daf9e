import Foundation
import Store
import Logging

/// One line per event on stderr, logfmt style (`ts=… level=… msg="…" key=value`), which journald
/// keeps as is and tools parse. Values are quoted when needed; never patient data by convention
/// of the callers.
public struct LogfmtHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    private static let lock = NSLock()

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
                    source: String, file: String, function: String, line: UInt) {
        var line = "ts=\(LogTime.now()) level=\(level) component=\(label) msg=\(LogfmtHandler.quote(message.description))"
        let merged = metadata.merging(explicit ?? [:]) { $1 }
        for key in merged.keys.sorted() { line += " \(key)=\(LogfmtHandler.quote("\(merged[key]!)"))" }
        line += "\n"
        LogfmtHandler.lock.lock()
        FileHandle.standardError.write(line.data(using: .utf8)!)
        LogfmtHandler.lock.unlock()
    }

    static func quote(_ s: String) -> String {
        if !s.isEmpty && !s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) { return s }
        return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    /// Installs the handler process-wide (once).
    public static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { LogfmtHandler(label: $0, level: level) }
    }
}

enum LogTime {
    static func now() -> String { Timestamp.log(Date()) }
}

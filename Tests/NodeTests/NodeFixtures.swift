import Analysis
import Engine
import Foundation
import Logging
@testable import Node
import Records
import Store
import TestSupport

/// What the Node tests build their components from: real files, the bundled model, a real logger.
enum NodeFixtures {
    /// The bundled localizer, loaded once for the run (each analyzer makes its own session of it).
    static let model = Result { try LocalizerModel(contentsOf: TestData.localizerModel) }

    /// A node configuration whose state lies in a fresh directory and whose analysis is the quick
    /// one: one thread, the middle slice only (no neighbours, no ladder perturbations), no
    /// thoracolumbar locator. The figures differ from the default's; the pipeline does not.
    static func configuration() throws -> NodeConfiguration {
        var c = NodeConfiguration()
        c.dataDirectory = try TestData.temporaryDirectory("node")
        c.analysisThreads = .fixed(1)
        c.neighbourSlices = 0
        c.ladderStability = false
        c.thoracolumbarLocator = .off
        return c
    }

    static func analyzer(_ c: NodeConfiguration) throws -> Analyzer {
        try Analyzer(model: model.get(), threads: c.threadsPerAnalysis, neighbours: c.neighbourSlices,
                     perturbations: c.ladderPerturbations, riskThresholds: c.riskThresholds)
    }

    /// The headers of a shared series' files, read and checked as Ingest reads a received file, as
    /// the records Ingest hands the indexer (the files stay where they lie); one received every 10 ms.
    static func records(of series: String, receivedAt: Date, callingAETitle: String? = "PACS",
                        limit: Int = .max) throws -> [InstanceRecord] {
        try TestData.files(of: series).prefix(limit).enumerated().map { i, path in
            try InstanceHeader.read(path: path, expected: nil)
                .record(path: path, bytes: fileSize(path), receivedAt: receivedAt.addingTimeInterval(Double(i) / 100),
                        callingAETitle: callingAETitle)
        }
    }
}

/// A real Logger whose entries the test reads back: the components report retries and refusals
/// only in their log.
final class LogRecorder: @unchecked Sendable {
    struct Entry {
        let level: Logger.Level
        let message: String
        let metadata: Logger.Metadata
    }

    private let lock = NSLock()
    private var stored: [Entry] = []

    var entries: [Entry] {
        lock.lock(); defer { lock.unlock() }
        return stored
    }

    func entries(_ message: String) -> [Entry] { entries.filter { $0.message == message } }

    func logger(_ label: String) -> Logger { Logger(label: label) { _ in Handler(recorder: self) } }

    private func append(_ entry: Entry) {
        lock.lock(); stored.append(entry); lock.unlock()
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel = Logger.Level.trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
                 source: String, file: String, function: String, line: UInt) {
            recorder.append(Entry(level: level, message: message.description, metadata: metadata.merging(explicit ?? [:]) { $1 }))
        }
    }
}

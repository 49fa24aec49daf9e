import Analysis
import Foundation
import Logging
import Records
import Store
import Yams

/// The node's configuration: embedded defaults, overridden by a YAML file, overridden by flags.
/// Keys in the file are snake_case; every key is optional.
public struct NodeConfiguration: Sendable, Equatable {
    public var aeTitle = "LSTVNODE"
    public var port = 11112
    /// Spool, private PostgreSQL cluster and other state live here.
    public var dataDirectory = "var"
    /// libpq URI, e.g. postgresql://lstv@/lstv?host=/var/lib/lstv-node/pg/run. Nil: the private
    /// cluster under the data directory. The password may come from PGPASSWORD or ~/.pgpass.
    public var databaseURL: String?
    /// A series is complete after this long without a new instance.
    public var quietSeconds = 10.0
    public var maxAssociations = 32
    public var acseTimeoutSeconds = 30
    public var dimseTimeoutSeconds = 60
    /// Empty: any calling AE title may store.
    public var allowedCallingAETitles: [String] = []
    /// Empty: any host may connect.
    public var allowedHosts: [String] = []
    /// C-STORE is refused with A700 (out of resources) below this much free space.
    public var minimumFreeDiskMB = 512
    public var shutdownGraceSeconds = 30
    /// Files of ignored series are removed this long after the series completed.
    public var ignoredRetentionHours = 24.0
    public var routing = RoutingConfiguration.default
    /// The localizer model file. Nil: the bundled model (see `ModelLocator`).
    public var modelPath: String?
    /// The thoracolumbar locator, the count's second anchor (`bundled`, a file, or `off`).
    public var thoracolumbarLocator = LocatorSetting.bundled
    /// OpenBLAS threads per analysis.
    public var analysisThreads = 1
    /// Slices on each side of the middle one also run through the network, for the spread of each
    /// level's point and entropy across slices (0 = the reference's single slice only).
    public var neighbourSlices = 2
    /// The middle slice also run zoomed and moved (`SlicePerturbation.standard`): a disc that jumps
    /// to another disc makes the ladder inconsistent.
    public var ladderStability = true
    /// Risk from `lstv_suspicion`: the model file's own thresholds (`model`), or a site's own
    /// `{high, medium}` (high above `high`, medium from `medium` to `high`).
    public var riskThresholds = RiskThresholdSource.model
    /// Known DICOM peers: results go back to the sender by looking its calling AE title up here.
    public var peers: [DicomPeer] = []
    public var results = ResultsConfiguration()
    /// Analyses run at the same time (each on its own thread, `analysis_threads` BLAS threads each).
    public var analysisWorkers = 1
    public var logLevel = Logger.Level.info

    public init() {}

    /// The perturbations the analysis runs for the ladder's stability check.
    public var ladderPerturbations: [SlicePerturbation] { ladderStability ? SlicePerturbation.standard : [] }

    public var spoolDirectory: String { (dataDirectory as NSString).appendingPathComponent("spool") }

    /// The configured URL, or the private cluster's socket under the data directory.
    public var effectiveDatabaseURL: String {
        if let url = databaseURL, !url.isEmpty { return url }
        if let env = ProcessInfo.processInfo.environment["LSTV_DATABASE_URL"], !env.isEmpty { return env }
        let absolute = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        return "postgresql://lstv@/lstv?host=\(absolute)/pg/run"
    }

    public static func load(path: String?) throws -> NodeConfiguration {
        var config = NodeConfiguration()
        guard let path else { return config }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigurationError("cannot read configuration file \(path): \(error.localizedDescription)")
        }
        let file: ConfigurationFile
        do { file = try YAMLDecoder().decode(ConfigurationFile.self, from: text) } catch {
            throw ConfigurationError("invalid configuration file \(path): \(error)")
        }
        file.apply(to: &config)
        try config.validate()
        return config
    }

    public func validate() throws {
        guard (1...16).contains(aeTitle.count), aeTitle.allSatisfy({ $0.isASCII && $0 != "\\" && !$0.isNewline }) else {
            throw ConfigurationError("ae_title must be 1 to 16 ASCII characters without backslash: \(aeTitle)")
        }
        guard (1...65535).contains(port) else { throw ConfigurationError("port must be 1…65535: \(port)") }
        guard quietSeconds > 0 else { throw ConfigurationError("quiet_seconds must be positive") }
        guard maxAssociations >= 1 else { throw ConfigurationError("max_associations must be at least 1") }
        _ = try routing.compiled()
        if case let .configured(t) = riskThresholds, let p = t.problem { throw ConfigurationError("risk_thresholds: \(p)") }
        guard (1...64).contains(analysisThreads) else { throw ConfigurationError("analysis_threads must be 1…64") }
        guard (0...8).contains(neighbourSlices) else { throw ConfigurationError("neighbour_slices must be 0…8") }
        guard (1...16).contains(analysisWorkers) else { throw ConfigurationError("analysis_workers must be 1…16") }
        for p in peers + results.destinations where p.aeTitle.isEmpty || p.aeTitle.count > 16 || !(1...65535).contains(p.port) {
            throw ConfigurationError("peer \(p.aeTitle)@\(p.host):\(p.port): AE title must be 1–16 characters and port 1–65535")
        }
        guard results.maxAttempts >= 1, results.initialBackoffSeconds > 0, results.maxBackoffSeconds >= results.initialBackoffSeconds else {
            throw ConfigurationError("results: max_attempts ≥ 1 and 0 < initial_backoff_seconds ≤ max_backoff_seconds")
        }
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The file's shape: all optional, so a file names only what it changes.
struct ConfigurationFile: Decodable {
    var ae_title: String?
    var port: Int?
    var data_dir: String?
    var database_url: String?
    var quiet_seconds: Double?
    var max_associations: Int?
    var acse_timeout_seconds: Int?
    var dimse_timeout_seconds: Int?
    var allowed_calling_ae_titles: [String]?
    var allowed_hosts: [String]?
    var minimum_free_disk_mb: Int?
    var shutdown_grace_seconds: Int?
    var ignored_retention_hours: Double?
    var routing: RoutingConfiguration?
    var model: String?
    var thoracolumbar_locator: LocatorSetting?
    var analysis_threads: Int?
    var neighbour_slices: Int?
    var ladder_stability: Bool?
    var risk_thresholds: RiskThresholdSetting?
    var peers: [DicomPeer]?
    var results: ResultsConfiguration?
    var analysis_workers: Int?
    var log_level: Logger.Level?

    func apply(to c: inout NodeConfiguration) {
        if let v = ae_title { c.aeTitle = v }
        if let v = port { c.port = v }
        if let v = data_dir { c.dataDirectory = v }
        if let v = database_url { c.databaseURL = v }
        if let v = quiet_seconds { c.quietSeconds = v }
        if let v = max_associations { c.maxAssociations = v }
        if let v = acse_timeout_seconds { c.acseTimeoutSeconds = v }
        if let v = dimse_timeout_seconds { c.dimseTimeoutSeconds = v }
        if let v = allowed_calling_ae_titles { c.allowedCallingAETitles = v }
        if let v = allowed_hosts { c.allowedHosts = v }
        if let v = minimum_free_disk_mb { c.minimumFreeDiskMB = v }
        if let v = shutdown_grace_seconds { c.shutdownGraceSeconds = v }
        if let v = ignored_retention_hours { c.ignoredRetentionHours = v }
        if let v = routing { c.routing = v }
        if let v = model { c.modelPath = v }
        if let v = thoracolumbar_locator { c.thoracolumbarLocator = v }
        if let v = analysis_threads { c.analysisThreads = v }
        if let v = neighbour_slices { c.neighbourSlices = v }
        if let v = ladder_stability { c.ladderStability = v }
        if let v = risk_thresholds { c.riskThresholds = v.source }
        if let v = peers { c.peers = v }
        if let v = results { c.results = v }
        if let v = analysis_workers { c.analysisWorkers = v }
        if let v = log_level { c.logLevel = v }
    }
}

/// What the node sends back, where, and how hard it tries.
public struct ResultsConfiguration: Codable, Sendable, Equatable {
    /// Send results to the AE that sent the series (its calling AE title looked up in `peers`).
    public var sendToSender = true
    /// Fixed destinations, in addition.
    public var destinations: [DicomPeer] = []
    /// The AE title the node calls with.
    public var callingAETitle: String?
    /// "comprehensive3d" (default) or "enhanced".
    public var srDocument = "comprehensive3d"
    public var keyImage = true
    public var srSeriesNumber = 9901
    public var srSeriesDescription = "LSTV localizer report"
    public var keyImageSeriesNumber = 9902
    public var keyImageSeriesDescription = "LSTV localizer key image"
    public var maxAttempts = 10
    public var initialBackoffSeconds = 5.0
    public var maxBackoffSeconds = 600.0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case sendToSender = "send_to_sender", destinations, callingAETitle = "calling_ae_title", srDocument = "sr_document"
        case keyImage = "key_image", srSeriesNumber = "sr_series_number", srSeriesDescription = "sr_series_description"
        case keyImageSeriesNumber = "key_image_series_number", keyImageSeriesDescription = "key_image_series_description"
        case maxAttempts = "max_attempts", initialBackoffSeconds = "initial_backoff_seconds", maxBackoffSeconds = "max_backoff_seconds"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ResultsConfiguration()
        sendToSender = try c.decodeIfPresent(Bool.self, forKey: .sendToSender) ?? d.sendToSender
        destinations = try c.decodeIfPresent([DicomPeer].self, forKey: .destinations) ?? d.destinations
        callingAETitle = try c.decodeIfPresent(String.self, forKey: .callingAETitle)
        srDocument = try c.decodeIfPresent(String.self, forKey: .srDocument) ?? d.srDocument
        keyImage = try c.decodeIfPresent(Bool.self, forKey: .keyImage) ?? d.keyImage
        srSeriesNumber = try c.decodeIfPresent(Int.self, forKey: .srSeriesNumber) ?? d.srSeriesNumber
        srSeriesDescription = try c.decodeIfPresent(String.self, forKey: .srSeriesDescription) ?? d.srSeriesDescription
        keyImageSeriesNumber = try c.decodeIfPresent(Int.self, forKey: .keyImageSeriesNumber) ?? d.keyImageSeriesNumber
        keyImageSeriesDescription = try c.decodeIfPresent(String.self, forKey: .keyImageSeriesDescription) ?? d.keyImageSeriesDescription
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
        initialBackoffSeconds = try c.decodeIfPresent(Double.self, forKey: .initialBackoffSeconds) ?? d.initialBackoffSeconds
        maxBackoffSeconds = try c.decodeIfPresent(Double.self, forKey: .maxBackoffSeconds) ?? d.maxBackoffSeconds
    }
}

/// `risk_thresholds:` in the file: the word `model`, or `{high: H, medium: M}`.
struct RiskThresholdSetting: Decodable {
    let source: RiskThresholdSource
    static let modelWord = "model"

    init(from decoder: Decoder) throws {
        let single = try decoder.singleValueContainer()
        let word: String
        do { word = try single.decode(String.self) } catch DecodingError.typeMismatch {
            // Not a word: it must be the mapping; its own errors name what is wrong in it.
            source = .configured(try single.decode(RiskThresholds.self))
            return
        }
        guard word == Self.modelWord else {
            throw DecodingError.dataCorruptedError(in: single, debugDescription: "risk_thresholds must be '\(Self.modelWord)' or {high, medium}, not '\(word)'")
        }
        source = .model
    }
}

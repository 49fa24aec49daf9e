import Analysis
import Audit
import DICOM
import Foundation
import Logging
import Records
import Store
import Web
import Yams

/// The node's configuration: embedded defaults (the properties' initial values), overridden by a
/// YAML file, overridden by flags. Each key is declared once, in `keys`, with its doc and check.
public struct NodeConfiguration: ConfigurationSection, Sendable, Equatable {
    public var aeTitle = "LSTVNODE"
    public var port = 11112
    public var maxAssociations = 32
    public var maxAssociationsPerPeer = 16
    public var acseTimeoutSeconds = 30
    public var dimseTimeoutSeconds = 60
    public var allowedCallingAETitles: [String] = []
    public var allowedHosts: [String] = []
    public var minimumFreeDiskMB = 512
    public var shutdownGraceSeconds = 30
    public var dataDirectory = "var"
    public var databaseURL: String?
    public var logLevel = Logger.Level.info
    public var quietSeconds = 10.0
    public var ignoredRetentionHours = 24.0
    public var receivedRetentionDays = 30.0
    public var retentionFreeDiskMB = 1024
    public var modelPath: String?
    public var thoracolumbarLocator = LocatorSetting.bundled
    public var analysisThreads = AnalysisThreads.auto
    /// `analysis_threads` resolved for the node's `analysis_workers` analyzers.
    public var threadsPerAnalysis: Int { analysisThreads.resolved(concurrent: analysisWorkers) }
    public var riskThresholds = RiskThresholdSource.model
    public var riskThresholdsProvenance: String?
    public var neighbourSlices = 2
    public var ladderStability = true
    public var analysisWorkers = 1
    public var peers: [DicomPeer] = []
    public var results = ResultsConfiguration()
    public var routing = RoutingConfiguration.default
    public var http = HTTPConfiguration()
    public var tls = TLSListenerConfiguration()
    public var audit = AuditConfiguration()
    public var include: [String] = []

    public init() {}

    public static let keys: [ConfigurationKey<NodeConfiguration>] = [
        includeKey,
        .init("ae_title", \.aeTitle, "the called AE title the node answers to (others are rejected)", check: aeTitleProblem),
        .init("port", \.port, "TCP port of the DICOM listener; 0: none (TLS only, tls.port)",
              check: { $0 == 0 ? nil : portProblem($0) }),
        .init("max_associations", \.maxAssociations, "concurrent associations; a PACS sending series in parallel needs several",
              check: { $0 >= 1 ? nil : "must be at least 1" }),
        .init("max_associations_per_peer", \.maxAssociationsPerPeer, "of those, from one host; more get A-ASSOCIATE-RJ (transient)",
              check: { $0 >= 1 ? nil : "must be at least 1" }),
        .init("acse_timeout_seconds", \.acseTimeoutSeconds, "association negotiation must finish within this",
              check: { $0 >= 1 ? nil : "must be at least 1" }),
        .init("dimse_timeout_seconds", \.dimseTimeoutSeconds, "an idle association is aborted after this",
              check: { $0 >= 1 ? nil : "must be at least 1" }),
        .init("allowed_calling_ae_titles", \.allowedCallingAETitles, "empty: any calling AE may store; e.g. [PACS01, PACS02]"),
        .init("allowed_hosts", \.allowedHosts, "empty: any host; e.g. [10.1.2.3]"),
        .init("minimum_free_disk_mb", \.minimumFreeDiskMB, "below this, C-STORE is refused with A700 (out of resources)",
              check: { $0 >= 0 ? nil : "must not be negative" }),
        .init("shutdown_grace_seconds", \.shutdownGraceSeconds, "on SIGTERM, associations in flight get this long to finish",
              check: { $0 >= 0 ? nil : "must not be negative" }),
        .init("data_dir", \.dataDirectory, "spool (and, without database_url, the private PostgreSQL cluster)",
              check: { $0.isEmpty ? "must not be empty" : nil }),
        .init("database_url", \.databaseURL, "libpq URI; password via PGPASSWORD or ~/.pgpass; default: the private cluster",
              example: "postgresql://lstv@/lstv?host=/var/run/postgresql"),
        .init("log_level", \.logLevel, Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")),
        .init("quiet_seconds", \.quietSeconds, "a series is complete this long after its last instance, once no open association is still sending it",
              check: { $0 > 0 ? nil : "must be positive" }),
        .init("ignored_retention_hours", \.ignoredRetentionHours, "files of ignored series are removed this long after completion",
              check: { $0 >= 0 ? nil : "must not be negative" }),
        .init("received_retention_days", \.receivedRetentionDays,
              "received files of every series are removed this long after its last instance (an analysed one once its results are sent or dead); flags, SRs and key images stay",
              check: { $0 >= 0 ? nil : "must not be negative" }),
        .init("retention_free_disk_mb", \.retentionFreeDiskMB,
              "while the spool's free space is below this, the oldest series that may go are purged first, whatever their age (keep it above minimum_free_disk_mb)",
              check: { $0 >= 0 ? nil : "must not be negative" }),
        .init("model", \.modelPath, "the localizer model file; default: the bundled model",
              example: "/usr/local/share/lstv-node/models/lstv-localizer.safetensors"),
        .init("thoracolumbar_locator", \.thoracolumbarLocator, "the count's second anchor: bundled, a model file, or off"),
        .init("analysis_threads", \.analysisThreads,
              "threads per analysis (the engine's pool; OpenBLAS single-threaded inside): 1…64, or auto = the cores available / analysis_workers (analyze: / its default jobs)",
              check: \.problem),
        .init("risk_thresholds", \.riskThresholds, "risk from lstv_suspicion: the model file's thresholds, or a site's own {high: H, medium: M}",
              check: { if case let .configured(t) = $0 { return t.problem } else { return nil } }),
        .init("risk_thresholds_provenance", \.riskThresholdsProvenance, "where a site's risk_thresholds came from (lstv-node calibrate writes it)",
              example: "'n=200 (31 LSTV), ROC AUC 0.91 (0.86-0.95), max_f1, 5-fold, model sha256 cf08f6b3…'"),
        .init("neighbour_slices", \.neighbourSlices, "neighbours of the middle slice also analysed: spread of points and entropy (0 = off)",
              check: { (0...8).contains($0) ? nil : "must be 0…8" }),
        .init("ladder_stability", \.ladderStability, "middle slice also run zoomed/moved (6 passes): a disc that jumps makes the ladder inconsistent"),
        .init("analysis_workers", \.analysisWorkers, "analyses at the same time (each with analysis_threads threads)",
              check: { (1...16).contains($0) ? nil : "must be 1…16" }),
        .init("peers", \.peers, "known AEs, e.g. [{ae_title: PACS01, host: 10.1.2.3, port: 104}]", check: peersProblem),
        .init(section: "tls", \.tls, ""),
        .init(section: "results", \.results, ""),
        .init(section: "http", \.http, ""),
        .init(section: "audit", \.audit, ""),
        .init(block: "routing", \.routing, """
            Rules are tried in order; the first whose every condition holds decides the route
            (localizer or ignored). Series no rule matches are ignored, with the reasons each rule gave.
            Regular expressions search SeriesDescription/ProtocolName; numeric ranges (ms, mm) only
            constrain series that carry the attribute; plane comes from ImageOrientationPatient.
            """, check: { r in
                do { _ = try r.compiled(); return nil } catch { return "\(error)" }
            }),
    ]

    /// Written first, so `include` heads the file and reads as what it is: the base the rest overrides.
    static let includeKey = ConfigurationKey<NodeConfiguration>(
        "include", \.include, "files whose keys apply first (e.g. a calibration); this file's keys override them")

    public static let headings = [
        "include": "Other files", "ae_title": "DICOM listener", "data_dir": "State", "quiet_seconds": "Series assembly and routing",
        "model": "Analysis", "tls": "DICOM TLS listener (BCP 195)", "peers": "Results back to the PACS", "http": "Web: health, metrics, API",
        "audit": "Audit trail (IHE ATNA)", "routing": "Routing rules",
    ]

    /// The shipped file's opening lines.
    static let fileHeader = """
        # lstv-node configuration. Every key is optional: what is left out keeps the embedded default shown
        # here. Command-line flags override this file. Check with: lstv-node check-config --config FILE
        # (This file is written by `lstv-node check-config --template`; the keys are declared in
        # Sources/Node/Configuration.swift.)
        """

    static func aeTitleProblem(_ t: String) -> String? {
        (1...16).contains(t.count) && t.allSatisfy({ $0.isASCII && $0 != "\\" && !$0.isNewline })
            ? nil : "must be 1 to 16 ASCII characters without backslash: \(t)"
    }

    static func readableFileProblem(_ path: String) -> String? {
        FileManager.default.isReadableFile(atPath: path) ? nil : "cannot read \(path)"
    }

    static func portProblem(_ p: Int) -> String? { (1...65535).contains(p) ? nil : "must be 1…65535: \(p)" }

    static func peersProblem(_ peers: [DicomPeer]) -> String? {
        peers.lazy.compactMap { p in
            aeTitleProblem(p.aeTitle).map { "\(p): AE title \($0)" } ?? portProblem(p.port).map { "\(p): port \($0)" }
                ?? p.tls.flatMap { DICOMTLS.problem($0, role: .sender) }.map { "\(p): tls: \($0)" }
        }.first
    }

    public var crossKeyProblems: [String] {
        if port == 0 && tls.port == 0 { return ["port: 0 needs a TLS listener (tls.port), or nothing listens"] }
        if port != 0 && port == tls.port { return ["tls: port: \(port) is the plain listener's port too"] }
        return []
    }

    /// Where results go besides the sender, and every known peer: the TLS settings of an outbox
    /// destination are looked up here by its address.
    public var knownPeers: [DicomPeer] { results.destinations + peers }

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

    /// The effective database URL with its password hidden (for logs and reports).
    public var redactedDatabaseURL: String { Connection.redact(effectiveDatabaseURL) }

    public static func load(path: String?) throws -> NodeConfiguration {
        guard let path else { return NodeConfiguration() }
        let (text, included) = try ConfigurationInclude.merged(path: path)
        let file = ([path] + included).joined(separator: " with ")
        var config: NodeConfiguration
        do {
            // An empty file (or one of comments only) is the defaults.
            config = try Yams.load(yaml: text) == nil ? NodeConfiguration() : try YAMLDecoder().decode(NodeConfiguration.self, from: text)
        } catch DecodingError.dataCorrupted(let context) where context.underlyingError is ConfigurationError {
            // Yams reports what a key's decoder threw as corrupt YAML; the key's own message is the one to show.
            throw ConfigurationError("invalid configuration file \(file): \(context.underlyingError!)")
        } catch {
            throw ConfigurationError("invalid configuration file \(file): \(error)")
        }
        config.include = included
        do { try config.validate() } catch { throw ConfigurationError("invalid configuration file \(file): \(error)") }
        return config
    }

    /// Every invalid key at once, each named, so one round of editing fixes the file.
    public func validate() throws {
        let all = problems()
        guard !all.isEmpty else { return }
        throw ConfigurationError(all.joined(separator: "; "))
    }

    /// The configuration as a file the node reads back to the same values (`check-config`), or, as
    /// `template`, the shipped config/lstv-node.yaml.
    public func yamlFile(template: Bool) throws -> String {
        ([Self.fileHeader, ""] + (try yaml(template: template))).joined(separator: "\n") + "\n"
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    /// Where the problem is: the key's path from the top of the file (`results.max_attempts`); none
    /// for problems of the whole file.
    public let key: [String]
    public let reason: String

    public init(_ description: String) { key = []; reason = description }
    public init(key: String, _ reason: String) { self.key = [key]; self.reason = reason }
    private init(key: [String], reason: String) { self.key = key; self.reason = reason }

    /// The same problem seen from the section `name` that holds the key.
    func within(_ name: String) -> ConfigurationError { ConfigurationError(key: [name] + key, reason: reason) }

    public var description: String { key.isEmpty ? reason : "\(key.joined(separator: ".")): \(reason)" }
}

/// The DICOM TLS listener (`tls:`): a port beside the plain one (or, with `port: 0`, instead of it),
/// the BCP 195 profile. Its certificate and key are loaded when the configuration is checked, so a bad
/// file stops `check-config` (exit 2) and `serve` with the key named.
public struct TLSListenerConfiguration: ConfigurationSection, Sendable, Equatable {
    public var port = 0
    public var settings = TLSSettings()

    public init() {}

    public static let keys: [ConfigurationKey<TLSListenerConfiguration>] = [
        .init("port", \.port, "TCP port of the DICOM TLS listener; 0: none", check: { (0...65535).contains($0) ? nil : "must be 0…65535" }),
        .init(TLSSettings.CodingKeys.certificate.rawValue, \.settings.certificate, "PEM: the node's certificate",
              example: "/etc/lstv-node/tls/node.pem"),
        .init(TLSSettings.CodingKeys.privateKey.rawValue, \.settings.privateKey, "PEM: its private key, unencrypted",
              example: "/etc/lstv-node/tls/node.key"),
        .init(TLSSettings.CodingKeys.trustedCertificates.rawValue, \.settings.trustedCertificates,
              "CAs of the senders' certificates: PEM files or c_rehash'd directories"),
        .init(TLSSettings.CodingKeys.requirePeerCertificate.rawValue, \.settings.requirePeerCertificate,
              "senders must present a certificate a trusted CA signed"),
    ]

    public var crossKeyProblems: [String] {
        guard port != 0 else { return [] }
        return DICOMTLS.problem(settings, role: .listener).map { [$0] } ?? []
    }
}

/// What the node sends back, where, and how hard it tries (`results:`).
public struct ResultsConfiguration: ConfigurationSection, Sendable, Equatable {
    public var sendToSender = true
    public var destinations: [DicomPeer] = []
    public var callingAETitle: String?
    public var srDocument = SRDocumentClass.comprehensive3D
    public var keyImage = true
    public var srSeriesNumber = 9901
    public var srSeriesDescription = "LSTV localizer report"
    public var keyImageSeriesNumber = 9902
    public var keyImageSeriesDescription = "LSTV localizer key image"
    public var keyObjectSelection = true
    public var keyObjectSelectionSeriesNumber = 9903
    public var keyObjectSelectionSeriesDescription = "LSTV localizer key objects"
    public var maxAttempts = 10
    public var initialBackoffSeconds = 5.0
    public var maxBackoffSeconds = 600.0

    public init() {}

    public static let keys: [ConfigurationKey<ResultsConfiguration>] = [
        .init("send_to_sender", \.sendToSender, "to the AE that sent the series (its calling AE title looked up in peers)"),
        .init("destinations", \.destinations, "fixed destinations too, same form as peers (+ tls: {certificate, private_key, trusted_certificates, require_peer_certificate}); `serve --destination AE@HOST:PORT`",
              check: NodeConfiguration.peersProblem),
        .init("calling_ae_title", \.callingAETitle, "the AE title the node calls with; default: ae_title", example: "LSTVNODE",
              check: NodeConfiguration.aeTitleProblem),
        .init("sr_document", \.srDocument, SRDocumentClass.allCases.map(\.rawValue).joined(separator: " or ")),
        .init("key_image", \.keyImage, "Secondary Capture with heatmaps, points, risk, \"NOT FOR DIAGNOSTIC USE\""),
        .init("sr_series_number", \.srSeriesNumber, "", check: { $0 >= 0 ? nil : "must not be negative" }),
        .init("sr_series_description", \.srSeriesDescription, ""),
        .init("key_image_series_number", \.keyImageSeriesNumber, "", check: { $0 >= 0 ? nil : "must not be negative" }),
        .init("key_image_series_description", \.keyImageSeriesDescription, ""),
        .init("key_object_selection", \.keyObjectSelection,
              "a Key Object Selection document marking the analysed slice and the key image \"Of Interest\""),
        .init("key_object_selection_series_number", \.keyObjectSelectionSeriesNumber, "",
              check: { $0 >= 0 ? nil : "must not be negative" }),
        .init("key_object_selection_series_description", \.keyObjectSelectionSeriesDescription, ""),
        .init("max_attempts", \.maxAttempts, "then the delivery is dead (lstv-node outbox retry ID)",
              check: { $0 >= 1 ? nil : "must be at least 1" }),
        .init("initial_backoff_seconds", \.initialBackoffSeconds, "doubled each attempt, with jitter, up to max_backoff_seconds",
              check: { $0 > 0 ? nil : "must be positive" }),
        .init("max_backoff_seconds", \.maxBackoffSeconds, ""),
    ]

    public var crossKeyProblems: [String] {
        maxBackoffSeconds >= initialBackoffSeconds ? [] : ["max_backoff_seconds: must not be below initial_backoff_seconds"]
    }
}

/// The web face (`http:`): where it listens and the bearer tokens it accepts.
public struct HTTPConfiguration: ConfigurationSection, Sendable, Equatable {
    public var port = 8080
    public var host = "0.0.0.0"
    public var tokens: [TokenRecord] = []
    public var maxUploadMB = 1024
    public var tls = HTTPTLSConfiguration()

    public init() {}

    public static let keys: [ConfigurationKey<HTTPConfiguration>] = [
        .init("port", \.port, "0 turns the web face off; `serve --http-port N`",
              check: { (0...65535).contains($0) ? nil : "must be 0…65535" }),
        .init("host", \.host, "address to bind; 127.0.0.1 keeps it on this machine",
              check: { $0.isEmpty ? "must not be empty" : nil }),
        .init("tokens", \.tokens, "[{name, role: viewer|admin, sha256}]: `lstv-node token create`; none: an admin token is made at first start",
              check: { t in
                  t.lazy.compactMap { r in r.sha256.count == 64 && r.sha256.allSatisfy(\.isHexDigit) ? nil : "\(r.name): sha256 must be 64 hex digits" }.first
              }),
        .init("max_upload_mb", \.maxUploadMB, "the largest STOW-RS request taken (held in memory while it is split into instances)",
              check: { (1...65536).contains($0) ? nil : "must be 1…65536" }),
        .init(section: "tls", \.tls, "HTTPS (swift-nio-ssl, TLS 1.2 or later) when both files are given; plain HTTP otherwise"),
    ]
}

/// HTTPS for the web face (`http.tls:`): a PEM certificate chain and its private key. Given, the
/// port speaks HTTPS only; a file that cannot be read is a configuration error, and one that does
/// not parse stops `serve` with the key named (a site that asked for HTTPS never runs plain HTTP).
public struct HTTPTLSConfiguration: ConfigurationSection, Sendable, Equatable {
    public var certificate: String?
    public var privateKey: String?

    public init() {}

    /// Both files, for the web server; nil serves plain HTTP (the keys' check refuses one alone).
    public var files: WebServer.TLSFiles? {
        guard let certificate, let privateKey else { return nil }
        return WebServer.TLSFiles(certificate: certificate, privateKey: privateKey)
    }

    public static let keys: [ConfigurationKey<HTTPTLSConfiguration>] = [
        .init("certificate", \.certificate, "PEM: the server's certificate first, then its intermediates",
              example: "/etc/lstv-node/https/cert.pem", check: NodeConfiguration.readableFileProblem),
        .init("private_key", \.privateKey, "PEM: the certificate's private key (keep it readable by the node's user only)",
              example: "/etc/lstv-node/https/key.pem", check: NodeConfiguration.readableFileProblem),
    ]

    public var crossKeyProblems: [String] {
        (certificate == nil) == (privateKey == nil) ? [] : ["certificate, private_key: give both for HTTPS, or neither"]
    }
}

/// The audit trail (`audit:`): DICOM audit messages in a file of their own and, optionally, to a
/// syslog collector. Always on: a hospital must be able to tell who sent and received what.
public struct AuditConfiguration: ConfigurationSection, Sendable, Equatable {
    public var file: String?
    public var syslog: String?

    public init() {}

    public static let keys: [ConfigurationKey<AuditConfiguration>] = [
        .init("file", \.file, "RFC 5424 records, one per line; default: <data_dir>/audit.log (mode 0640: it holds patient IDs)",
              example: "/var/log/lstv-node/audit.log"),
        .init("syslog", \.syslog, "HOST:PORT of a syslog collector (UDP, RFC 5426) that gets each record too",
              example: "127.0.0.1:514", check: { SyslogDestination($0) == nil ? "must be HOST:PORT" : nil }),
    ]
}

extension NodeConfiguration {
    /// Where the audit trail is written.
    public var auditFile: String { audit.file ?? (dataDirectory as NSString).appendingPathComponent("audit.log") }
}

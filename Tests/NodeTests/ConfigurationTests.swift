import Analysis
import DICOM
import Records
import XCTest
@testable import Node

final class ConfigurationTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shipped example documents the embedded defaults: it is the declared keys' template, and
    /// it reads back to the defaults.
    func testShippedConfigurationEqualsEmbeddedDefaults() throws {
        let path = Self.repo.appendingPathComponent("config/lstv-node.yaml").path
        XCTAssertEqual(try NodeConfiguration.load(path: path), NodeConfiguration())
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), try NodeConfiguration().yamlFile(template: true),
                       "config/lstv-node.yaml is stale: lstv-node check-config --template > config/lstv-node.yaml")
    }

    /// `check-config` prints what the node would read back to the same configuration.
    func testEffectiveConfigurationReadsBack() throws {
        var c = NodeConfiguration()
        c.aeTitle = "SITE01"
        c.quietSeconds = 2.5
        c.allowedCallingAETitles = ["PACS1", "PACS 2"]
        c.peers = [DicomPeer(aeTitle: "PACS1", host: "10.0.0.5", port: 104)]
        c.riskThresholds = .configured(RiskThresholds(high: 3.25, medium: 2))
        c.thoracolumbarLocator = .off
        c.results.srDocument = .enhanced
        c.results.callingAETitle = "LSTV"
        c.modelPath = "/srv/models/a model.safetensors"
        c.routing.rules[0].seriesText = "(?i)t2, sag"
        let path = NSTemporaryDirectory() + "/cfg-\(UUID().uuidString).yaml"
        try c.yamlFile(template: false).write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try NodeConfiguration.load(path: path), c)
    }

    /// The listener's ports: 0 turns the plain one off only beside a TLS port, and the two differ.
    /// A destination's TLS settings are loaded at check time and the key at fault is named.
    func testListenerPortsAndTLSSettingsAreChecked() {
        var c = NodeConfiguration()
        c.port = 0
        XCTAssertEqual(c.problems(), ["port: 0 needs a TLS listener (tls.port), or nothing listens"])
        c.port = 2762
        c.tls.port = 2762
        XCTAssertTrue(c.problems().contains { $0.hasPrefix("tls: port: 2762") }, "\(c.problems())")
        c = NodeConfiguration()
        c.results.destinations = [DicomPeer(aeTitle: "PACS1", host: "10.0.0.5", port: 2762,
                                            tls: TLSSettings(trustedCertificates: ["/nonexistent/ca.pem"]))]
        XCTAssertTrue(c.problems().contains { $0.hasPrefix("results.destinations: PACS1@10.0.0.5:2762: tls: trusted_certificates: ") },
                      "\(c.problems())")
    }

    /// `include:` applies other files first; the including file's own keys win; one level only.
    func testIncludeAppliesFilesFirstAndOwnKeysOverride() throws {
        let dir = NSTemporaryDirectory() + "/cfg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "risk_thresholds: {high: 3.5, medium: 2.0}\nrisk_thresholds_provenance: 'n=100'\nport: 4000\n"
            .write(toFile: dir + "/calibration.yaml", atomically: true, encoding: .utf8)
        try "include: [calibration.yaml]\nport: 5000\n".write(toFile: dir + "/site.yaml", atomically: true, encoding: .utf8)
        let c = try NodeConfiguration.load(path: dir + "/site.yaml")
        XCTAssertEqual(c.riskThresholds, .configured(RiskThresholds(high: 3.5, medium: 2.0)))
        XCTAssertEqual(c.riskThresholdsProvenance, "n=100")
        XCTAssertEqual(c.port, 5000, "the including file's own key wins")
        XCTAssertEqual(c.include, ["calibration.yaml"])
        try "include: site.yaml\n".write(toFile: dir + "/outer.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try NodeConfiguration.load(path: dir + "/outer.yaml")) { XCTAssertTrue("\($0)".contains("one level only"), "\($0)") }
        try "include: [missing.yaml]\n".write(toFile: dir + "/broken.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try NodeConfiguration.load(path: dir + "/broken.yaml")) { XCTAssertTrue("\($0)".contains("missing.yaml"), "\($0)") }
    }

    /// A misspelt key is an error that names it, at the top level and in a section.
    /// Each mistake is an error that names the file and the key by its path, in an operator's words:
    /// a misspelt key with the key it probably meant, a wrong type with what was found, every
    /// out-of-range value at once.
    func testMistakesNameTheFileAndTheKey() throws {
        let cases: [(yaml: String, expected: [String])] = [
            ("max_assocations: 8\n", ["max_assocations: unknown key; did you mean 'max_associations'?"]),
            ("results: {max_atempts: 3}\n", ["results.max_atempts: unknown key; did you mean 'max_attempts'?"]),
            ("dicom_tls: {port: 2762}\n", ["dicom_tls: unknown key (known here: include, ae_title"]),
            ("max_associations: lots\n", ["max_associations: expected a whole number, found \"lots\""]),
            ("peers: 5\n", ["peers: expected a list"]),
            ("max_associations: 0\nresults: {max_attempts: 0}\nhttp: {port: 99999}\n",
             ["max_associations: must be at least 1", "results.max_attempts: must be at least 1", "http.port: must be 0…65535"]),
        ]
        for c in cases {
            let path = NSTemporaryDirectory() + "/cfg-\(UUID().uuidString).yaml"
            try c.yaml.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try NodeConfiguration.load(path: path)) { error in
                XCTAssertTrue("\(error)".hasPrefix("invalid configuration file \(path): "), "\(error)")
                for part in c.expected { XCTAssertTrue("\(error)".contains(part), "\(part) not in: \(error)") }
            }
        }
    }

    func testNearestKeyIsWithinTwoEdits() {
        XCTAssertEqual(ConfigurationSpelling.distance("max_assocations", "max_associations"), 1)
        XCTAssertEqual(ConfigurationSpelling.distance("", "abc"), 3)
        XCTAssertEqual(ConfigurationSpelling.nearest("prot", in: ["port", "peers"]), "port")
        XCTAssertNil(ConfigurationSpelling.nearest("tls", in: ["port", "peers", "http"]))
    }

    /// Every declared key is documented in the shipped file.
    func testEveryKeyIsInTheShippedFile() throws {
        let text = try String(contentsOfFile: Self.repo.appendingPathComponent("config/lstv-node.yaml").path, encoding: .utf8)
        for key in NodeConfiguration.keys.map(\.name) + ResultsConfiguration.keys.map(\.name) {
            XCTAssertTrue(text.contains("\(key):"), key)
        }
    }

    func testFileOverridesOnlyWhatItNames() throws {
        let path = NSTemporaryDirectory() + "/cfg-\(UUID().uuidString).yaml"
        try "ae_title: MYNODE\nquiet_seconds: 2.5\nallowed_calling_ae_titles: [PACS1]\n".write(toFile: path, atomically: true, encoding: .utf8)
        let c = try NodeConfiguration.load(path: path)
        XCTAssertEqual(c.aeTitle, "MYNODE")
        XCTAssertEqual(c.quietSeconds, 2.5)
        XCTAssertEqual(c.allowedCallingAETitles, ["PACS1"])
        XCTAssertEqual(c.port, 11112)
        XCTAssertEqual(c.routing, .default)
    }

    func testInvalidValuesAreRejectedWithTheKey() throws {
        for (yaml, key) in [("ae_title: THIS_TITLE_IS_FAR_TOO_LONG\n", "ae_title"), ("port: 70000\n", "port"),
                            ("quiet_seconds: 0\n", "quiet_seconds"), ("port: [1]\n", "port"),
                            ("risk_thresholds: modle\n", "risk_thresholds"), ("risk_thresholds: {high: 1, medium: 2}\n", "risk_thresholds"),
                            ("log_level: loud\n", "log_level"), ("results: {sr_document: enhancd}\n", "sr_document"),
                            ("results: {max_attempts: 0}\n", "max_attempts"), ("peers: [{ae_title: '', host: h, port: 1}]\n", "peers"),
                            ("analysis_workers: 0\n", "analysis_workers"), ("analysis_threads: 0\n", "analysis_threads"),
                            ("analysis_threads: all\n", "analysis_threads"),
                            ("results: {initial_backoff_seconds: 9, max_backoff_seconds: 1}\n", "max_backoff_seconds")] {
            let path = NSTemporaryDirectory() + "/cfg-\(UUID().uuidString).yaml"
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try NodeConfiguration.load(path: path)) { error in
                XCTAssertTrue("\(error)".contains(key), "\(error)")
            }
        }
    }

    /// `risk_thresholds`: the model's own by default, or a site's; `thoracolumbar_locator`: bundled, a file, or off.
    func testRiskThresholdAndLocatorSettings() throws {
        XCTAssertEqual(NodeConfiguration().riskThresholds, .model)
        XCTAssertEqual(NodeConfiguration().thoracolumbarLocator, .bundled)
        let path = NSTemporaryDirectory() + "/cfg-\(UUID().uuidString).yaml"
        try "risk_thresholds: {high: 3.5, medium: 2.0}\nthoracolumbar_locator: off\n".write(toFile: path, atomically: true, encoding: .utf8)
        var c = try NodeConfiguration.load(path: path)
        XCTAssertEqual(c.riskThresholds, .configured(RiskThresholds(high: 3.5, medium: 2.0)))
        XCTAssertEqual(c.thoracolumbarLocator, .off)
        try "risk_thresholds: model\nthoracolumbar_locator: /srv/models/tl.safetensors\n".write(toFile: path, atomically: true, encoding: .utf8)
        c = try NodeConfiguration.load(path: path)
        XCTAssertEqual(c.riskThresholds, .model)
        XCTAssertEqual(c.thoracolumbarLocator, .file("/srv/models/tl.safetensors"))
        XCTAssertThrowsError(try ModelLocator.resolveLocator(c.thoracolumbarLocator)) { error in
            XCTAssertTrue("\(error)".contains("/srv/models/tl.safetensors"), "\(error)")
        }
        XCTAssertNil(try ModelLocator.resolveLocator(.off))
    }

    /// `analysis_threads`: `auto` by default (the shipped file cannot hold one machine's core count),
    /// the cores shared among the analyses that run at once; a number stands as written.
    func testAnalysisThreadsAutoSharesTheCores() throws {
        XCTAssertEqual(NodeConfiguration().analysisThreads, .auto)
        XCTAssertEqual(AnalysisThreads.auto.resolved(concurrent: 1, cores: 8), 8)
        XCTAssertEqual(AnalysisThreads.auto.resolved(concurrent: 3, cores: 8), 2)
        XCTAssertEqual(AnalysisThreads.auto.resolved(concurrent: 4, cores: 2), 1, "at least one thread")
        XCTAssertEqual(AnalysisThreads.fixed(3).resolved(concurrent: 2, cores: 8), 3)
        var c = NodeConfiguration()
        c.analysisWorkers = 2
        XCTAssertEqual(c.threadsPerAnalysis, max(1, ProcessInfo.processInfo.activeProcessorCount / 2))
        let path = NSTemporaryDirectory() + "/cfg-\(UUID().uuidString).yaml"
        for (yaml, value) in [("analysis_threads: auto\n", AnalysisThreads.auto), ("analysis_threads: 3\n", .fixed(3))] {
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertEqual(try NodeConfiguration.load(path: path).analysisThreads, value)
        }
        c.analysisThreads = .fixed(5)
        try c.yamlFile(template: false).write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try NodeConfiguration.load(path: path).analysisThreads, .fixed(5))
    }

    func testPrivateClusterURLUnderTheDataDirectory() {
        var c = NodeConfiguration()
        c.dataDirectory = "/srv/lstv"
        if ProcessInfo.processInfo.environment["LSTV_DATABASE_URL"] == nil {
            XCTAssertEqual(c.effectiveDatabaseURL, "postgresql://lstv@/lstv?host=/srv/lstv/pg/run")
        }
        c.databaseURL = "postgresql://node@db.example/lstv"
        XCTAssertEqual(c.effectiveDatabaseURL, "postgresql://node@db.example/lstv")
    }

    func testPeerHostParsing() {
        XCTAssertEqual(Ingest.host(of: "10.0.0.5"), "10.0.0.5")
        XCTAssertEqual(Ingest.host(of: "10.0.0.5:4242"), "10.0.0.5")
        XCTAssertEqual(Ingest.host(of: "[::1]:104"), "::1")
        XCTAssertEqual(Ingest.host(of: "::1"), "::1")
    }
}

final class UIDGeneratorTests: XCTestCase {
    func testDerivedUIDsAreValidStableAndDistinct() {
        let a = UIDGenerator.uid(for: "analysis 1 sr")
        XCTAssertEqual(a, UIDGenerator.uid(for: "analysis 1 sr"))
        // Python's hashlib as the independent reference: a delivered SR keeps its UID across versions.
        XCTAssertEqual(a, "2.25.220716803812272940954783389239249510012")
        XCTAssertNotEqual(a, UIDGenerator.uid(for: "analysis 1 key_image"))
        XCTAssertTrue(a.hasPrefix("2.25."))
        XCTAssertTrue(UID.isValid(a), a)
        XCTAssertLessThanOrEqual(a.count, 64)
    }

    func testDecimalConversion() {
        XCTAssertEqual(UIDGenerator.decimal([0x01, 0x00]), "256")
        XCTAssertEqual(UIDGenerator.decimal([0xFF, 0xFF, 0xFF, 0xFF]), "4294967295")
        XCTAssertEqual(UIDGenerator.decimal([0, 0]), "0")
    }

    func testDestinationParsing() throws {
        let d = try DicomPeer(parsing: "ORTHANC@127.0.0.1:4242")
        XCTAssertEqual(d, DicomPeer(aeTitle: "ORTHANC", host: "127.0.0.1", port: 4242))
        XCTAssertEqual(d.description, "ORTHANC@127.0.0.1:4242")
        for bad in ["ORTHANC:4242", "ORTHANC@host:port", "PACS@host", "@host:104", "PACS@:104", "PACS@host:0", "PACS@host:70000",
                    "AETITLEMUCHTOOLONG@host:104"] {
            XCTAssertThrowsError(try DicomPeer(parsing: bad)) { XCTAssertTrue("\($0)".contains(bad), "\($0)") }
        }
    }
}

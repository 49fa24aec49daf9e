import Analysis
import DICOM
import Records
import XCTest
@testable import Node

final class ConfigurationTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shipped example documents the embedded defaults: they must not drift apart.
    func testShippedConfigurationEqualsEmbeddedDefaults() throws {
        let path = Self.repo.appendingPathComponent("config/lstv-node.yaml").path
        XCTAssertEqual(try NodeConfiguration.load(path: path), NodeConfiguration())
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
                            ("log_level: loud\n", "log_level")] {
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

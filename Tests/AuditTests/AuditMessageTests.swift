import Audit
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Logging
import XCTest

final class AuditMessageTests: XCTestCase {
    let node = ActiveParticipant(userID: "LSTVNODE", alternativeUserID: "4242", isRequestor: false, roles: [.application],
                                 networkAccessPoint: "node.example.org")

    /// The elements of a parsed message, by name, with their attributes.
    final class Elements: NSObject, XMLParserDelegate {
        var found: [(name: String, attributes: [String: String])] = []
        var text = ""
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            found.append((name, attributes))
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
        func all(_ name: String) -> [[String: String]] { found.filter { $0.name == name }.map(\.attributes) }
    }

    func parse(_ xml: String) throws -> Elements {
        let e = Elements()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = e
        XCTAssertTrue(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "?")\n\(xml)")
        return e
    }

    /// A study received: DICOM Instances Transferred, create, the calling AE as source and the node as
    /// destination, the study with its SOP classes and counts, the patient, one line of XML.
    func testInstancesTransferredNamesTheStudyThePatientAndBothAEs() throws {
        var tally = StudyTally()
        for _ in 0..<3 { tally.add(study: "1.2.3", patientID: "PAT<1>&", accessionNumber: "A1", sopClass: "1.2.840.10008.5.1.4.1.1.4") }
        tally.add(study: "1.2.3", patientID: "PAT<1>&", accessionNumber: nil, sopClass: "1.2.840.10008.5.1.4.1.1.7")
        tally.add(study: "9.8", patientID: nil, accessionNumber: nil, sopClass: "1.2.840.10008.5.1.4.1.1.4")
        XCTAssertEqual(tally.studies.map(\.studyInstanceUID), ["1.2.3", "9.8"])
        let pacs = ActiveParticipant.applicationEntity("PACS", host: "10.1.2.3", role: .source, requestor: true)
        var destination = node
        destination.roles = [.destination]
        let m = AuditMessage.instancesTransferred(tally.studies[0], source: pacs, destination: destination, action: .create)
        let xml = m.xml(source: AuditSource(id: "LSTVNODE@node", site: "LSTVNODE"))
        XCTAssertFalse(xml.contains("\n"))
        let e = try parse(xml)
        XCTAssertEqual(e.all("EventIdentification").first?["EventActionCode"], "C")
        XCTAssertEqual(e.all("EventIdentification").first?["EventOutcomeIndicator"], "0")
        XCTAssertEqual(e.all("EventID").first?["csd-code"], "110104")
        XCTAssertEqual(e.all("ActiveParticipant").map { $0["UserID"] }, ["PACS", "LSTVNODE"])
        XCTAssertEqual(e.all("ActiveParticipant").first?["NetworkAccessPointTypeCode"], "2")
        XCTAssertEqual(e.all("ActiveParticipant").last?["NetworkAccessPointTypeCode"], "1")
        XCTAssertEqual(e.all("RoleIDCode").map { $0["csd-code"] }, ["110153", "110152"])
        let objects = e.all("ParticipantObjectIdentification")
        XCTAssertEqual(objects.map { $0["ParticipantObjectID"] }, ["1.2.3", "PAT<1>&"], "escaped and read back")
        XCTAssertEqual(e.all("SOPClass").map { [$0["UID"]!, $0["NumberOfInstances"]!] },
                       [["1.2.840.10008.5.1.4.1.1.4", "3"], ["1.2.840.10008.5.1.4.1.1.7", "1"]])
        XCTAssertEqual(e.all("Accession").map { $0["Number"] }, ["A1"])
    }

    /// The trail appends RFC 5424 records (facility 10, severity notice, MSGID IHE+RFC-3881), one
    /// per line, to a file only its owner and group can read.
    func testTrailAppendsSyslogRecordsToAPrivateFile() throws {
        let dir = NSTemporaryDirectory() + "audit-\(UUID().uuidString)"
        let path = dir + "/sub/audit.log"
        let trail = try AuditTrail(source: AuditSource(id: "LSTVNODE@h", site: "LSTVNODE"), path: path, syslog: nil,
                                   logger: Logger(label: "test"))
        trail.record(.applicationActivity(.applicationStart, node: node, user: "lstv"))
        trail.record(.userAuthentication(.login, user: ActiveParticipant(userID: "x\ny", isRequestor: true, roles: []),
                                         node: node, outcome: .minorFailure, description: "bad \"token\""))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        for line in lines {
            XCTAssertTrue(line.hasPrefix("<85>1 "), String(line))
            let parts = line.split(separator: " ", maxSplits: 7)
            XCTAssertEqual(parts[3], "lstv-node")
            XCTAssertEqual(parts[5], "IHE+RFC-3881")
            XCTAssertEqual(parts[6], "-")
            XCTAssertTrue(parts[7].hasPrefix("\u{FEFF}<AuditMessage>"))
            _ = try parse(String(parts[7].dropFirst()))
        }
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertEqual(mode.map { $0 & 0o777 & ~0o640 }, 0, "no permission beyond 0640")
        XCTAssertThrowsError(try AuditTrail(source: AuditSource(id: "a", site: "b"), path: "/proc/audit.log", syslog: nil,
                                            logger: Logger(label: "test"))) { XCTAssertTrue("\($0)".contains("audit.file")) }
    }

    func testSyslogDestinationParsing() {
        XCTAssertEqual(SyslogDestination("collector:514"), SyslogDestination(host: "collector", port: 514))
        XCTAssertNil(SyslogDestination("collector"))
        XCTAssertNil(SyslogDestination(":514"))
        XCTAssertNil(SyslogDestination("h:0"))
    }
}

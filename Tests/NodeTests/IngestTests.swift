@testable import DICOM  // AssociationInfo and StoreRequest: the SCP makes them, no public init
import Foundation
@testable import Node
import Store
import TestSupport
import XCTest

/// The C-STORE delegate driven as the SCP drives it (accept, begin, data set into the temporary
/// path, end) with the shared study's real files, a real spool and a real index behind it.
final class IngestTests: XCTestCase {
    var configuration = NodeConfiguration()
    var spool: Spool!
    var index: InstanceIndex!
    var indexer: Indexer!
    var audit: NodeAudit!
    var router: Router!
    let log = LogRecorder()
    var files: [String] = []

    override func setUpWithError() throws {
        configuration.dataDirectory = try TestData.temporaryDirectory("ingest")
        spool = try Spool(root: configuration.spoolDirectory)
        index = InstanceIndex(database: try TestDatabase.migrated())
        // Not started unless a test starts it: its queue is then exactly what Ingest handed over.
        indexer = Indexer(index: index, logger: log.logger("indexer"))
        audit = try NodeAudit(configuration: configuration, logger: log.logger("audit"))
        files = try TestData.files(of: TestData.sagittalSeries)
        router = try configuration.routing.compiled()
    }

    var ingest: Ingest { Ingest(configuration: configuration, router: router, spool: spool, indexer: indexer, audit: audit,
                                 logger: log.logger("ingest")) }

    func association(calling: String = "PACS", called: String = "LSTVNODE", peer: String = "10.1.2.3") -> AssociationInfo {
        AssociationInfo(callingAETitle: calling, calledAETitle: called, peerHost: peer, id: 1)
    }

    func request(_ file: String, sopClass: String? = nil, sopInstance: String? = nil) throws -> StoreRequest {
        let ds = try DicomDataset(path: file)
        return StoreRequest(association: association(), affectedSOPClassUID: sopClass ?? ds.text(.sopClassUID)!,
                            affectedSOPInstanceUID: sopInstance ?? ds.text(.sopInstanceUID)!,
                            transferSyntaxUID: TransferSyntax.explicitVRLittleEndian, messageID: 1)
    }

    /// One C-STORE: the data set `content` lands where Ingest asked for it, then the end status.
    func store(_ r: StoreRequest, content: String, file: StaticString = #filePath, line: UInt = #line) throws -> DIMSEStatus {
        let ingest = self.ingest
        guard case let .receive(tmp) = ingest.storeWillBegin(r) else {
            XCTFail("refused before the data set", file: file, line: line)
            return .processingFailure
        }
        XCTAssertTrue(tmp.hasPrefix(spool.incoming + "/"), "received outside the spool's incoming: \(tmp)", file: file, line: line)
        try FileManager.default.copyItem(atPath: content, toPath: tmp)
        return ingest.storeDidEnd(r, temporaryPath: tmp)
    }

    /// The partial files in incoming/ (beside them, this process's receiver marker).
    func incoming() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: spool.incoming).filter { $0.hasSuffix(".part") } }

    /// What an association stored reaches the audit trail once, when it ends: one DICOM Instances
    /// Transferred per study, from the calling AE, with the count per SOP class and the patient; a
    /// refused association is a Security Alert naming the peer.
    func testAnAssociationIsAuditedWhenItEnds() throws {
        let ingest = self.ingest
        func auditLines() throws -> [String] {
            try String(contentsOfFile: configuration.auditFile, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        for f in files.prefix(3) {
            let r = try request(f)
            guard case let .receive(tmp) = ingest.storeWillBegin(r) else { return XCTFail("refused") }
            try FileManager.default.copyItem(atPath: f, toPath: tmp)
            XCTAssertEqual(ingest.storeDidEnd(r, temporaryPath: tmp), .success)
        }
        XCTAssertEqual(try auditLines(), [], "nothing before the association ends")
        let series = try XCTUnwrap(try DicomDataset(path: files[0]).text(.seriesInstanceUID))
        XCTAssertEqual(ingest.seriesInOpenAssociations, [series], "its series is still being sent")
        ingest.associationDidEnd(association())
        XCTAssertEqual(ingest.seriesInOpenAssociations, [])
        ingest.associationDidEnd(association())
        let lines = try auditLines()
        XCTAssertEqual(lines.count, 1, "one study, reported once")
        let patient = try XCTUnwrap(try DicomDataset(path: files[0]).text(.patientID))
        let sopClass = try XCTUnwrap(try DicomDataset(path: files[0]).text(.sopClassUID))
        for part in ["csd-code=\"110104\"", "EventActionCode=\"C\"", "UserID=\"PACS\"", "NetworkAccessPointID=\"10.1.2.3\"",
                     "<SOPClass NumberOfInstances=\"3\" UID=\"\(sopClass)\"/>", "ParticipantObjectID=\"\(patient)\""] {
            XCTAssertTrue(lines[0].contains(part), "\(part) not in \(lines[0])")
        }
        XCTAssertFalse(log.entries.contains { "\($0)".contains(patient) }, "the operational log names no patient")

        XCTAssertEqual(ingest.shouldAccept(association(called: "OTHER")), .rejectCalledAETitle)
        let alert = try XCTUnwrap(try auditLines().last)
        XCTAssertTrue(alert.contains("csd-code=\"110113\"") && alert.contains("csd-code=\"110126\"")
                      && alert.contains("EventOutcomeIndicator=\"4\""), alert)
    }

    func testAssociationPolicyByCalledAndCallingAETitleAndHost() {
        XCTAssertEqual(ingest.shouldAccept(association()), .accept, "no lists: anyone calling our AE title")
        XCTAssertEqual(ingest.shouldAccept(association(called: "OTHER")), .rejectCalledAETitle)
        configuration.allowedCallingAETitles = ["PACS"]
        configuration.allowedHosts = ["10.1.2.3", "::1"]
        XCTAssertEqual(ingest.shouldAccept(association(calling: "MODALITY")), .rejectCallingAETitle)
        XCTAssertEqual(ingest.shouldAccept(association(peer: "10.9.9.9")), .rejectNoReason)
        // DCMTK names the peer "host" or "host:port"; an IPv6 peer with a port is bracketed.
        XCTAssertEqual(ingest.shouldAccept(association(peer: "10.1.2.3:4242")), .accept)
        XCTAssertEqual(ingest.shouldAccept(association(peer: "[::1]:104")), .accept)
        XCTAssertEqual(ingest.shouldAccept(association(peer: "::1")), .accept)
        XCTAssertEqual(log.entries("association rejected").count, 3)
    }

    /// Refusals before the data set is read leave nothing behind.
    func testRefusedBeforeTheDataSetByClassUIDAndFreeSpace() throws {
        func refusal(_ r: StoreRequest) -> DIMSEStatus? {
            if case let .refuse(status) = ingest.storeWillBegin(r) { return status }
            return nil
        }
        let ultrasound = "1.2.840.10008.5.1.4.1.1.6.1"
        XCTAssertEqual(refusal(try request(files[0], sopClass: ultrasound)), .sopClassNotSupported)
        // The spool path is built from the UIDs: one that could leave the spool is refused.
        XCTAssertEqual(refusal(try request(files[0], sopInstance: "1.2.3/../4")), .cannotUnderstand)
        // More free space required than the spool's file system has.
        let free = try XCTUnwrap(spool.freeBytes())
        configuration.minimumFreeDiskMB = Int(free / 1_048_576) + 1
        XCTAssertEqual(refusal(try request(files[0])), .outOfResources)
        configuration.minimumFreeDiskMB = 0
        XCTAssertNil(refusal(try request(files[0])))
        XCTAssertEqual(try incoming(), [])
        XCTAssertEqual(indexer.pendingCount, 0)
    }

    /// Success only once the instance is in the spool under its UIDs; its record reaches the index.
    func testStoredInstanceIsCommittedAndIndexed() throws {
        let r = try request(files[0])
        XCTAssertEqual(try store(r, content: files[0]), .success)
        let header = try InstanceHeader.read(path: files[0], expected: nil)
        let path = spool.finalPath(study: header.studyInstanceUID, series: header.seriesInstanceUID, sop: header.sopInstanceUID)
        XCTAssertEqual(FileManager.default.contents(atPath: path), FileManager.default.contents(atPath: files[0]))
        XCTAssertEqual(try incoming(), [])

        indexer.start()
        defer { indexer.stop(timeout: 5) }
        try waitUntil("the instance indexed") { try index.isIndexed(sopInstanceUID: header.sopInstanceUID) }
        XCTAssertEqual(try index.instancePaths(seriesInstanceUID: header.seriesInstanceUID), [path])
        let series = try XCTUnwrap(try index.series(uid: header.seriesInstanceUID))
        XCTAssertEqual(series.callingAETitle, "PACS")
        XCTAssertEqual(series.descriptors.modality, "MR")
        XCTAssertEqual(series.descriptors.seriesDescription, "T2_TSE_SAG")
        let row = try index.database.withConnection {
            try $0.execute("SELECT bytes, sop_class_uid FROM instances WHERE sop_instance_uid = $1", [header.sopInstanceUID]).rows.first
        }
        XCTAssertEqual(row?.int("bytes"), Int(fileSize(files[0])))
        XCTAssertEqual(row?["sop_class_uid"], SOPClass.mrImageStorage)
    }

    /// A PACS re-sending an instance gets success again, and the index is not asked twice.
    func testResentInstanceIsAcknowledgedAndNotQueuedAgain() throws {
        let r = try request(files[1])
        XCTAssertEqual(try store(r, content: files[1]), .success)
        XCTAssertEqual(try store(r, content: files[1]), .success)
        XCTAssertEqual(indexer.pendingCount, 1)
        XCTAssertEqual(spool.committedFiles().count, 1)
        XCTAssertEqual(try incoming(), [])
    }

    /// The file must be what the command announced, and readable; otherwise nothing is kept.
    func testDataSetThatDoesNotMatchTheCommandIsRefused() throws {
        let garbage = try TestData.temporaryDirectory("ingest-garbage") + "/garbage.dcm"
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: garbage))
        let cases: [(StoreRequest, String, DIMSEStatus)] = [
            (try request(files[2], sopInstance: "1.2.3.4.5"), files[2], .cannotUnderstand),
            (try request(files[2], sopClass: SOPClass.ctImageStorage), files[2], .dataSetDoesNotMatchSOPClass),
            (try request(files[2]), garbage, .cannotUnderstand),
        ]
        for (r, content, expected) in cases {
            XCTAssertEqual(try store(r, content: content), expected, "\(r.affectedSOPClassUID) \(r.affectedSOPInstanceUID) \(content)")
        }
        XCTAssertEqual(try incoming(), [])
        XCTAssertEqual(spool.committedFiles(), [])
        XCTAssertEqual(indexer.pendingCount, 0)
        XCTAssertEqual(log.entries("C-STORE refused").map { $0.metadata["status"]?.description },
                       ["0xC000", "0xA900", "0xC000"])
    }

    /// A spool that cannot take the file (here: a file where the study directory belongs, so the
    /// series directory cannot be made) is a processing failure, never a success.
    func testSpoolFailureIsAProcessingFailure() throws {
        let header = try InstanceHeader.read(path: files[3], expected: nil)
        _ = FileManager.default.createFile(atPath: spool.instances + "/" + header.studyInstanceUID, contents: Data())
        XCTAssertEqual(try store(try request(files[3]), content: files[3]), .processingFailure)
        XCTAssertEqual(try incoming(), [])
        XCTAssertEqual(indexer.pendingCount, 0)
    }
}

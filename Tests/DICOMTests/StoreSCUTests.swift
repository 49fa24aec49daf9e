import DICOM
import Foundation
import Records
import XCTest

/// StoreSCU against DCMTK's own storescp: real files arrive, a closed port and a refusal are told apart.
final class StoreSCUTests: XCTestCase {
    var files: [String] = []
    var servers: [Process] = []

    override func setUpWithError() throws {
        files = try Fixture.seriesFiles()
    }

    override func tearDown() {
        for p in servers where p.isRunning {
            p.terminate()
            p.waitUntilExit()
        }
        servers.removeAll()
    }

    /// A port nothing listens on right now (bound to 0, read back, closed).
    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DICOMError("socket failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
                bind(fd, p, len) == 0 && getsockname(fd, p, &len) == 0
            }
        }
        guard bound else { throw DICOMError("bind failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Starts storescp on a free port and waits until it accepts TCP connections.
    func startStoreSCP(aeTitle: String = "STORESCP", extra: [String] = []) throws -> (port: Int, dir: String) {
        let dir = try Fixture.tempDir()
        let port = try freePort()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/storescp")
        p.arguments = ["-aet", aeTitle, "-od", dir] + extra + [String(port)]
        p.environment = ProcessInfo.processInfo.environment.merging(["TCP_NODELAY": "1"]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        servers.append(p)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if canConnect(port) { return (port, dir) }
            usleep(50_000)
        }
        XCTFail("storescp did not start listening on \(port)")
        throw DICOMError("storescp not listening")
    }

    func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    func received(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    func testSendsThreeRealFilesOnOneAssociation() throws {
        let (port, dir) = try startStoreSCP()
        let chosen = Array(files.prefix(3))
        let statuses = try StoreSCU.send(files: chosen, to: DicomPeer(aeTitle: "STORESCP", host: "127.0.0.1", port: port),
                                         callingAETitle: "LSTVTEST", timeoutSeconds: 10)
        XCTAssertEqual(statuses, [.success, .success, .success])
        // storescp names files <modality prefix>.<SOP instance UID>.
        let arrived = received(in: dir)
        XCTAssertEqual(arrived.count, 3, "\(arrived)")
        for f in chosen {
            let uid = try XCTUnwrap(try DicomDataset(path: f).text(.sopInstanceUID))
            XCTAssertTrue(arrived.contains { $0.hasSuffix(uid) }, "\(uid) not in \(arrived)")
            // The data set arrives unchanged: same pixels.
            if let name = arrived.first(where: { $0.hasSuffix(uid) }) {
                XCTAssertEqual(try DicomDataset(path: dir + "/" + name, headerOnly: false).decodeFrame(),
                               try DicomDataset(path: f, headerOnly: false).decodeFrame())
            }
        }
    }

    func testStructuredReportAndSecondaryCaptureAreAccepted() throws {
        let (port, dir) = try startStoreSCP()
        let work = try Fixture.tempDir()
        let evidence = try files.map { try ReferencedInstance(file: $0) }
        let middle = evidence[evidence.count / 2]
        let report = MeasurementReport(
            sourceInstancePath: files[0], evidence: evidence, middleSlice: middle,
            instance: CreatedInstance(studyInstanceUID: middle.studyInstanceUID, seriesInstanceUID: Fixture.uid(),
                                      sopInstanceUID: Fixture.uid(), seriesNumber: 9901, seriesDescription: "LSTV analysis",
                                      modelName: "lstv-node", softwareVersion: "test"),
            deviceObserverUID: Fixture.uid(), deviceObserverName: "LSTVNODE",
            algorithmName: "lstv-localizer", algorithmVersion: "1",
            levels: [LevelMeasurement(trackingIdentifier: "L5/S1", trackingUID: Fixture.uid(), findingSite: Codes.l5s1Disc,
                                      peakConfidence: 0.5, entropy: 2, spatialEntropy: 1, point: (row: 10, column: 20))],
            lstvSuspicion: "high", ladderConsistency: "incomplete")
        let sr = work + "/sr.dcm"
        try StructuredReportWriter.write(report, to: sr)
        let sc = work + "/sc.dcm"
        try SecondaryCaptureWriter.write(
            KeyImage(sourceInstancePath: files[0], rgb: [UInt8](repeating: 128, count: 16 * 8 * 3), rows: 16, columns: 8,
                     instance: CreatedInstance(studyInstanceUID: middle.studyInstanceUID, seriesInstanceUID: Fixture.uid(),
                                               sopInstanceUID: Fixture.uid(), seriesNumber: 9902, seriesDescription: "LSTV key image"),
                     derivedFrom: middle), to: sc)
        let statuses = try StoreSCU.send(files: [sr, sc], to: DicomPeer(aeTitle: "STORESCP", host: "127.0.0.1", port: port),
                                         callingAETitle: "LSTVTEST", timeoutSeconds: 10)
        XCTAssertEqual(statuses, [.success, .success])
        let arrived = received(in: dir)
        XCTAssertEqual(arrived.count, 2, "\(arrived)")
        XCTAssertTrue(arrived.contains { $0.hasSuffix(report.instance.sopInstanceUID) }, "\(arrived)")
    }

    func testClosedPortIsConnectionFailed() throws {
        let port = try freePort()
        XCTAssertThrowsError(try StoreSCU.send(files: [files[0]], to: DicomPeer(aeTitle: "NOBODY", host: "127.0.0.1", port: port),
                                               callingAETitle: "LSTVTEST", timeoutSeconds: 5)) { error in
            guard case StoreSCUError.connectionFailed = error else { return XCTFail("expected connectionFailed, got \(error)") }
        }
    }

    func testRefusedAssociationIsAPermanentRejection() throws {
        let (port, dir) = try startStoreSCP(extra: ["--refuse"])
        XCTAssertThrowsError(try StoreSCU.send(files: [files[0]], to: DicomPeer(aeTitle: "STORESCP", host: "127.0.0.1", port: port),
                                               callingAETitle: "LSTVTEST", timeoutSeconds: 5)) { error in
            guard case let StoreSCUError.associationRejected(permanent, reason) = error else {
                return XCTFail("expected associationRejected, got \(error)")
            }
            XCTAssertTrue(permanent, reason)
            XCTAssertFalse(reason.isEmpty)
        }
        XCTAssertEqual(received(in: dir), [])
    }

    func testUnacceptedSOPClassSendsNothing() throws {
        // storescp with --implicit accepts only implicit VR little endian for the storage classes;
        // a class it does not know (a made-up private SOP class) gets no context.
        let (port, dir) = try startStoreSCP()
        let work = try Fixture.tempDir()
        let odd = work + "/odd.dcm"
        let script = """
        import sys, pydicom
        ds = pydicom.dcmread(sys.argv[1])
        ds.SOPClassUID = "1.2.826.0.1.3680043.10.999.1"
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.save_as(sys.argv[2])
        """
        guard FileManager.default.isExecutableFile(atPath: Fixture.python) else {
            return XCTFail("\(Fixture.python) missing: the suite's bootstrap creates .venv")
        }
        XCTAssertEqual(try Fixture.run(Fixture.python, ["-c", script, files[0], odd]).status, 0)
        XCTAssertThrowsError(try StoreSCU.send(files: [files[1], odd], to: DicomPeer(aeTitle: "STORESCP", host: "127.0.0.1", port: port),
                                               callingAETitle: "LSTVTEST", timeoutSeconds: 5)) { error in
            guard case StoreSCUError.noPresentationContext = error else {
                return XCTFail("expected noPresentationContext, got \(error)")
            }
        }
        XCTAssertEqual(received(in: dir), [], "nothing is sent when one file has no context")
    }

    func testUnreadableFileFailsBeforeConnecting() throws {
        let port = try freePort()
        XCTAssertThrowsError(try StoreSCU.send(files: ["/nonexistent/file.dcm"], to: DicomPeer(aeTitle: "X", host: "127.0.0.1", port: port),
                                               callingAETitle: "LSTVTEST")) { error in
            XCTAssertTrue(error is DICOMError, "\(error)")
        }
    }

    /// The node's own SCP, refusing every C-STORE with A700 (out of resources), running until `body` returns.
    func withRefusingSCP(aeTitle: String, maxAssociations: Int = 8, _ body: (_ port: Int) throws -> Void) throws {
        final class Refuser: StoreSCPDelegate, @unchecked Sendable {
            func shouldAccept(_ association: AssociationInfo) -> AssociationDecision { .accept }
            func storeWillBegin(_ request: StoreRequest) -> StoreBeginDecision { .refuse(.outOfResources) }
            func storeDidEnd(_ request: StoreRequest, temporaryPath: String) -> DIMSEStatus { .processingFailure }
            func associationDidEnd(_ association: AssociationInfo) {}
            func connectionRefused(peerHost: String, reason: String) {}
            func log(level: Int, _ message: String) {}
        }
        let port = try freePort()
        let scp = try StoreSCP(configuration: StoreSCPConfiguration(aeTitle: aeTitle, port: UInt16(port), maxAssociations: maxAssociations),
                               delegate: Refuser())
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread { _ = scp.run(graceSeconds: 1); done.signal() }
        defer { scp.stop(); done.wait() }
        try body(port)
    }

    /// The node's own SCP with no free association slot answers rejected-transient: retry later.
    func testBusyPeerIsATransientRejection() throws {
        try withRefusingSCP(aeTitle: "BUSY", maxAssociations: 0) { port in
            XCTAssertThrowsError(try StoreSCU.send(files: [files[0]], to: DicomPeer(aeTitle: "BUSY", host: "127.0.0.1", port: port),
                                                   callingAETitle: "LSTVTEST", timeoutSeconds: 5)) { error in
                guard case let StoreSCUError.associationRejected(permanent, reason) = error else {
                    return XCTFail("expected associationRejected, got \(error)")
                }
                XCTAssertFalse(permanent, reason)
            }
        }
    }

    /// A C-STORE failure status is returned, not thrown: the caller decides (dead letter, retry).
    func testFailureStatusIsReturnedPerFile() throws {
        try withRefusingSCP(aeTitle: "FULL") { port in
            let statuses = try StoreSCU.send(files: Array(files.prefix(2)), to: DicomPeer(aeTitle: "FULL", host: "127.0.0.1", port: port),
                                             callingAETitle: "LSTVTEST", timeoutSeconds: 5)
            XCTAssertEqual(statuses, [.outOfResources, .outOfResources])
        }
    }
}

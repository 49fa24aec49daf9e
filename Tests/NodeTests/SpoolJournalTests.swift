import XCTest
@testable import Node

/// The journal's recovery: live records come back byte for byte, retired ones do not, a torn
/// record ends the walk, and the ring reuses retired space across its end.
final class SpoolJournalTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "/journal-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/instances", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Appends `bytes` (as a received file) for SOP instance `sop` of series 1.2.3.
    func append(_ journal: SpoolJournal, sop: String, bytes: [UInt8]) throws -> SpoolJournal.Record {
        let tmp = dir + "/\(sop).part"
        FileManager.default.createFile(atPath: tmp, contents: Data(bytes))
        let record = try XCTUnwrap(try journal.append(filePath: tmp, relativePath: "1.2/1.2.3/\(sop).dcm"))
        unlink(tmp)
        return record
    }

    func replayed(_ journal: SpoolJournal) throws -> Int {
        try SpoolJournal.replay(path: journal.path, instances: dir + "/instances")
    }

    func contents(_ sop: String) -> [UInt8]? {
        FileManager.default.contents(atPath: dir + "/instances/1.2/1.2.3/\(sop).dcm").map { [UInt8]($0) }
    }

    func testLiveRecordsAreReplayedAndRetiredOnesAreNot() throws {
        let journal = try SpoolJournal(path: dir + "/j.journal")
        let data = (1...3).map { n in (0..<(5000 * n + 3)).map { UInt8(truncatingIfNeeded: $0 * n) } }
        let records = try (1...3).map { try append(journal, sop: "1.2.3.\($0)", bytes: data[$0 - 1]) }
        try journal.retire([records[0].seq])
        XCTAssertEqual(try replayed(journal), 2)
        XCTAssertNil(contents("1.2.3.1"), "a retired record came back")
        XCTAssertEqual(contents("1.2.3.2"), data[1])
        XCTAssertEqual(contents("1.2.3.3"), data[2])
        // Replaying again (a crash during the replay) gives the same files.
        XCTAssertEqual(try replayed(journal), 2)
        XCTAssertEqual(contents("1.2.3.3"), data[2])
    }

    func testATornRecordEndsTheWalk() throws {
        let journal = try SpoolJournal(path: dir + "/j.journal")
        _ = try append(journal, sop: "1.2.3.1", bytes: Array(repeating: 7, count: 10_000))
        _ = try append(journal, sop: "1.2.3.2", bytes: Array(repeating: 8, count: 10_000))
        _ = try append(journal, sop: "1.2.3.3", bytes: Array(repeating: 9, count: 10_000))
        // A byte of the second record's payload (it starts 12 KiB after the first) never reached the disk.
        let fd = open(journal.path, O_WRONLY)
        var zero: UInt8 = 0
        XCTAssertEqual(pwrite(fd, &zero, 1, off_t(SpoolJournal.recordsStart + 12_288 + 5_000)), 1)
        close(fd)
        XCTAssertEqual(try replayed(journal), 1)
        XCTAssertNotNil(contents("1.2.3.1"))
        XCTAssertNil(contents("1.2.3.2"))
        XCTAssertNil(contents("1.2.3.3"), "the walk went past a torn record")
    }

    func testTheRingWrapsOverRetiredSpace() throws {
        let journal = try SpoolJournal(path: dir + "/j.journal", capacity: 64 * 1024)
        // 12 KiB records in a 60 KiB ring: space is reused from the third lap on.
        for n in 1...20 {
            let r = try append(journal, sop: "1.2.3.\(n)", bytes: Array(repeating: UInt8(n), count: 12_000))
            if n < 19 { try journal.retire([r.seq]) }
        }
        // The last two are live, on either side of the ring's end or not: both come back.
        XCTAssertEqual(try replayed(journal), 2)
        XCTAssertEqual(contents("1.2.3.19"), Array(repeating: 19, count: 12_000))
        XCTAssertEqual(contents("1.2.3.20"), Array(repeating: 20, count: 12_000))
        XCTAssertNil(contents("1.2.3.18"))
    }

    func testAFullRingOrALargeInstanceIsLeftToTheDirectPath() throws {
        let journal = try SpoolJournal(path: dir + "/j.journal", capacity: 64 * 1024)
        let tmp = dir + "/big.part"
        FileManager.default.createFile(atPath: tmp, contents: Data(count: 20_000))
        XCTAssertNil(try journal.append(filePath: tmp, relativePath: "1.2/1.2.3/1.2.3.9.dcm"), "larger than a quarter of the ring")
        for n in 1...5 { _ = try append(journal, sop: "1.2.3.\(n)", bytes: Array(repeating: 1, count: 12_000)) }
        FileManager.default.createFile(atPath: tmp, contents: Data(count: 8_000))
        XCTAssertNil(try journal.append(filePath: tmp, relativePath: "1.2/1.2.3/1.2.3.6.dcm"), "the ring is full of live records")
    }

    /// The spool's own use: a committed instance is where it belongs; a clean stop retires the
    /// journal and removes it.
    func testSpoolCommitGoesThroughTheJournal() throws {
        let spool = try Spool(root: dir + "/spool")
        let journals = { try FileManager.default.contentsOfDirectory(atPath: spool.incoming).filter { $0.hasSuffix(SpoolJournal.suffix) } }
        XCTAssertEqual(try journals().count, 1)
        let tmp = spool.temporaryPath()
        FileManager.default.createFile(atPath: tmp, contents: Data("data set".utf8))
        XCTAssertEqual(try spool.commit(temporaryPath: tmp, study: "1.2", series: "1.2.3", sop: "1.2.3.4"),
                       .stored(path: spool.instances + "/1.2/1.2.3/1.2.3.4.dcm"))
        spool.stopReceiving()
        XCTAssertEqual(try journals(), [])
    }
}

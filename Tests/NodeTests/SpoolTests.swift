import XCTest
@testable import Node

final class SpoolTests: XCTestCase {
    func makeSpool() throws -> Spool {
        try Spool(root: NSTemporaryDirectory() + "/spool-\(UUID().uuidString)")
    }

    func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    func testCommitMovesIntoPlaceAndRecognisesDuplicates() throws {
        let spool = try makeSpool()
        let tmp1 = spool.temporaryPath()
        try write("first", to: tmp1)
        let first = try spool.commit(temporaryPath: tmp1, study: "1.2", series: "1.2.3", sop: "1.2.3.4")
        XCTAssertEqual(first, .stored(path: spool.instances + "/1.2/1.2.3/1.2.3.4.dcm"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp1))

        let tmp2 = spool.temporaryPath()
        try write("second", to: tmp2)
        let second = try spool.commit(temporaryPath: tmp2, study: "1.2", series: "1.2.3", sop: "1.2.3.4")
        XCTAssertEqual(second, .duplicate(path: spool.instances + "/1.2/1.2.3/1.2.3.4.dcm"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp2))
        // The first copy is kept unchanged.
        XCTAssertEqual(try String(contentsOfFile: spool.instances + "/1.2/1.2.3/1.2.3.4.dcm", encoding: .utf8), "first")
        XCTAssertEqual(spool.committedFiles().count, 1)
    }

    func testIncompleteReceptionsAreRemoved() throws {
        let spool = try makeSpool()
        try write("partial", to: spool.temporaryPath())
        try write("partial", to: spool.temporaryPath())
        XCTAssertEqual(spool.removeIncomplete(), 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool.incoming), [])
    }

    func testRemoveDeletesEmptyDirectoriesOnly() throws {
        let spool = try makeSpool()
        var paths: [String] = []
        for (series, sop) in [("1.1", "1.1.1"), ("1.1", "1.1.2"), ("1.2", "1.2.1")] {
            let tmp = spool.temporaryPath()
            try write(sop, to: tmp)
            if case .stored(let p) = try spool.commit(temporaryPath: tmp, study: "1", series: series, sop: sop) { paths.append(p) }
        }
        try spool.remove(paths: Array(paths.prefix(2)))
        try spool.remove(paths: Array(paths.prefix(1)))  // already gone: nothing to do
        XCTAssertFalse(FileManager.default.fileExists(atPath: spool.instances + "/1/1.1"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: spool.instances + "/1/1.2/1.2.1.dcm"))
    }

    func testFreeBytesIsReported() throws {
        XCTAssertGreaterThan(try makeSpool().freeBytes() ?? 0, 0)
    }
}

final class DurableWriteTests: XCTestCase {
    struct WriterFailed: Error {}

    /// The result writer's durable write: the new content replaces the old whole, no temporary
    /// file is left, and a writer that fails leaves the previous file as it was.
    func testWriteDurablyReplacesWholeOrNotAtAll() throws {
        let dir = NSTemporaryDirectory() + "durable-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/sr.dcm"
        try Spool.writeDurably(path) { try Data("first".utf8).write(to: URL(fileURLWithPath: $0)) }
        try Spool.writeDurably(path) { try Data("second".utf8).write(to: URL(fileURLWithPath: $0)) }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "second")
        XCTAssertThrowsError(try Spool.writeDurably(path) { _ in throw WriterFailed() })
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "second")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["sr.dcm"])
    }
}

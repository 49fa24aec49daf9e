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

    /// Two `Spool`s on one directory stand for two node processes (flock is per open file): a
    /// writer's partial files stay while it lives, and go once it is gone, marker and all.
    func testIncompleteReceptionsAreRemovedOnlyOnceTheirWriterIsGone() throws {
        var writer: Spool? = try makeSpool()
        let root = writer!.root
        let parts = [writer!.temporaryPath(), writer!.temporaryPath()]
        for p in parts { try write("partial", to: p) }
        let other = try Spool(root: root)
        XCTAssertEqual(try other.removeIncomplete().parts, 0)
        XCTAssertEqual(try writer!.removeIncomplete().parts, 0, "a process never removes its own partial files")
        XCTAssertTrue(parts.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        // An older version's partial file (no writer token) has no writer now.
        try write("partial", to: other.incoming + "/0c2f6b1e-8f43-4a43-9d3a-0d6c3b1b8d4e.part")
        XCTAssertEqual(try other.removeIncomplete().parts, 1)
        writer = nil
        XCTAssertEqual(try other.removeIncomplete().parts, parts.count)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/incoming").filter { $0.hasSuffix(".part") }, [])
    }

    /// A writer killed (its lock released by the kernel, its marker left behind) is gone as well.
    func testPartialFilesOfAWriterWhoseLockIsReleasedAreRemoved() throws {
        let spool = try makeSpool()
        let incoming = spool.incoming
        let token = "5d1f7c52-2f7e-4d55-8f7c-6a3c3a1b9e01"
        try write("", to: "\(incoming)/\(token).receiver")
        try write("partial", to: "\(incoming)/\(token).\(UUID().uuidString.lowercased()).part")
        XCTAssertEqual(try spool.removeIncomplete().writers, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(incoming)/\(token).receiver"))
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

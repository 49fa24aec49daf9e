import Foundation
@testable import Web
import XCTest

final class AccessTests: XCTestCase {
    func testTokensAreKnownOnlyByTheirHash() {
        // sha256("abc"), the FIPS 180-2 example.
        XCTAssertEqual(TokenStore.sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let store = TokenStore(records: [TokenRecord(name: "ward", role: .viewer, sha256: TokenStore.sha256("abc"))])
        XCTAssertEqual(store.identity(bearer: "abc"), Identity(name: "ward", role: .viewer))
        XCTAssertNil(store.identity(bearer: "abd"))
        XCTAssertTrue(Role.viewer < Role.admin)
        XCTAssertFalse(Role.admin < Role.viewer)
    }

    func testNewTokensAreRandomAndURLSafe() {
        let a = TokenStore.newToken(), b = TokenStore.newToken()
        XCTAssertNotEqual(a, b)
        XCTAssertTrue(a.hasPrefix("lstv_"))
        XCTAssertGreaterThanOrEqual(a.count, 5 + 43)
        XCTAssertTrue(a.dropFirst(5).allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, a)
    }

    /// The first start makes the admin token and keeps its hash (mode 0600); later starts reuse it.
    func testFirstStartAdminTokenIsMadeOnce() throws {
        let dir = NSTemporaryDirectory() + "/web-\(UUID().uuidString)"
        let (record, token) = try TokenStore.firstStartAdmin(dataDirectory: dir)
        let shown = try XCTUnwrap(token)
        XCTAssertEqual(record.sha256, TokenStore.sha256(shown))
        XCTAssertEqual(record.role, .admin)
        let path = dir + "/http-admin-token.sha256"
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        XCTAssertEqual(mode?.intValue, 0o600)
        XCTAssertFalse(try String(contentsOfFile: path, encoding: .utf8).contains(shown), "only the hash is kept")
        let (again, none) = try TokenStore.firstStartAdmin(dataDirectory: dir)
        XCTAssertNil(none)
        XCTAssertEqual(again, record)
    }

    /// A damaged hash file is an error naming it, never silently replaced by a new admin token.
    func testDamagedAdminTokenFileIsAnError() throws {
        let dir = NSTemporaryDirectory() + "/web-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "not a hash\n".write(toFile: dir + "/http-admin-token.sha256", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TokenStore.firstStartAdmin(dataDirectory: dir)) { error in
            XCTAssertTrue("\(error)".contains("http-admin-token.sha256"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: dir + "/http-admin-token.sha256", encoding: .utf8), "not a hash\n")
    }
}

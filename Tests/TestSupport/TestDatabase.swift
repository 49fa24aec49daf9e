import Foundation
import Store
import XCTest

/// A fresh database on the test cluster that scripts/test.sh starts (LSTV_TEST_DATABASE_URL).
/// Missing cluster = failure, not a skip: these tests exist to exercise the real server.
public enum TestDatabase {
    /// An empty database (no migrations applied: a test may want the schema missing).
    public static func make(file: StaticString = #filePath, line: UInt = #line) throws -> Database {
        guard let base = ProcessInfo.processInfo.environment["LSTV_TEST_DATABASE_URL"], !base.isEmpty else {
            XCTFail("LSTV_TEST_DATABASE_URL is not set: run the suite with scripts/test.sh (make test)", file: file, line: line)
            throw StoreError("no test database")
        }
        let name = "store_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        _ = try Database(url: base, maxIdle: 0).withConnection { try $0.execute("CREATE DATABASE \(name)") }
        return Database(url: replacingDatabase(in: base, with: String(name)))
    }

    /// A fresh database with the node's schema.
    public static func migrated(file: StaticString = #filePath, line: UInt = #line) throws -> Database {
        let database = try make(file: file, line: line)
        try Migrations.apply(to: database)
        return database
    }

    /// postgresql://user@host/db?params → same with another db.
    static func replacingDatabase(in url: String, with name: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let query = rest.firstIndex(of: "?") ?? rest.endIndex
        let authorityEnd = rest[..<query].firstIndex(of: "/") ?? query
        return String(url[..<authorityEnd]) + "/" + name + String(rest[query...])
    }
}

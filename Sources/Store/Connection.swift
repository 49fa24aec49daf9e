import CLibPQ
import Foundation

public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// The SQLSTATE of a server error (e.g. "23505" unique violation), when there is one.
    public let sqlState: String?
    public init(_ message: String, sqlState: String? = nil) { self.message = message; self.sqlState = sqlState }
    public var description: String { message }
}

/// One libpq connection. Not thread-safe: a connection belongs to one thread at a time (the pool
/// in `Database` hands them out). Every query is parameterised; values travel as text.
public final class Connection {
    private var conn: OpaquePointer?

    public init(url: String) throws {
        conn = PQconnectdb(url)
        guard let conn, PQstatus(conn) == CONNECTION_OK else {
            let message = conn.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            if let c = conn { PQfinish(c) }
            self.conn = nil  // deinit still runs for a fully initialised object that throws
            throw StoreError("cannot connect to PostgreSQL (\(Connection.redact(url))): "
                             + message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        // Timestamps are parsed as UTC text (see Timestamp); quiet notices.
        _ = try? execute("SET client_min_messages TO warning")
        _ = try? execute("SET TIME ZONE 'UTC'")
        // Several nodes may share the database: a node killed while its session waits for a lock
        // must not leave that session waiting (holding its transaction's row locks, e.g. an
        // analysis being recorded, that the other node needs to take the work over) until the lock
        // is granted. The server looks for the vanished client every 2 s (PostgreSQL 14+, Linux).
        try execute("""
            SELECT set_config('client_connection_check_interval', '2000', false)
            WHERE current_setting('server_version_num')::integer >= 140000
            """)
    }

    deinit { if let conn { PQfinish(conn) } }

    public var isHealthy: Bool { PQstatus(conn) == CONNECTION_OK }

    /// Runs one statement with $1…$n parameters (nil = SQL NULL).
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        let result: OpaquePointer? = withCStrings(parameters) { values in
            PQexecParams(conn, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        guard let result else { throw StoreError("PostgreSQL: " + String(cString: PQerrorMessage(conn))) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQclear(result)
            throw StoreError("PostgreSQL: " + message, sqlState: state)
        }
        return QueryResult(result)
    }

    /// Runs several statements separated by semicolons (simple query protocol, no parameters):
    /// migrations only.
    public func executeScript(_ sql: String) throws {
        guard let result = PQexec(conn, sql) else { throw StoreError("PostgreSQL: " + String(cString: PQerrorMessage(conn))) }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            throw StoreError("PostgreSQL: " + String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Runs body in a transaction; rolls back if it throws.
    public func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let value = try body(self)
            try execute("COMMIT")
            return value
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    /// The URL without its password, for messages and `check-config`.
    public static func redact(_ url: String) -> String {
        guard let at = url.firstIndex(of: "@"), let scheme = url.range(of: "://"), scheme.upperBound < at else { return url }
        let credentials = url[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}

/// A result set; values as text (nil for NULL).
public final class QueryResult {
    private let result: OpaquePointer
    init(_ result: OpaquePointer) { self.result = result }
    deinit { PQclear(result) }

    public var count: Int { Int(PQntuples(result)) }
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(result))) ?? 0 }

    public func value(_ row: Int, _ column: Int) -> String? {
        if PQgetisnull(result, Int32(row), Int32(column)) == 1 { return nil }
        return String(cString: PQgetvalue(result, Int32(row), Int32(column)))
    }

    public func column(named name: String) -> Int? {
        let i = PQfnumber(result, name)
        return i < 0 ? nil : Int(i)
    }

    /// The result's columns in their order, each with the kind PostgreSQL says it is (also when
    /// there are no rows: an export still has its header).
    public var columns: [ResultColumn] {
        (0..<Int(PQnfields(result))).map {
            ResultColumn(name: String(cString: PQfname(result, Int32($0))), kind: ColumnKind(oid: PQftype(result, Int32($0))))
        }
    }

    /// Rows as dictionaries keyed by column name, each column with the kind PostgreSQL says it is.
    public var rows: [Row] {
        let columns = self.columns
        let kinds = Dictionary(uniqueKeysWithValues: columns.map { ($0.name, $0.kind) })
        return (0..<count).map { r in
            var values: [String: String] = [:]
            for (c, column) in columns.enumerated() { if let v = value(r, c) { values[column.name] = v } }
            return Row(values: values, kinds: kinds)
        }
    }
}

/// One column of a result set.
public struct ResultColumn: Sendable, Equatable {
    public let name: String
    public let kind: ColumnKind
    public init(name: String, kind: ColumnKind) { self.name = name; self.kind = kind }
}

/// What a column holds, from its type OID (pg_type): readers print numbers as numbers without
/// guessing from column names.
public enum ColumnKind: Sendable, Equatable {
    case integer, number, boolean, json, timestamp, text

    init(oid: Oid) {
        switch oid {
        case 20, 21, 23: self = .integer          // int8, int2, int4
        case 700, 701, 1700: self = .number       // float4, float8, numeric
        case 16: self = .boolean
        case 114, 3802: self = .json              // json, jsonb
        case 1082, 1114, 1184: self = .timestamp  // date, timestamp, timestamptz
        default: self = .text
        }
    }
}

public struct Row: Sendable {
    public let values: [String: String]
    /// Column kinds by name (every column of the result, NULL or not).
    public var kinds: [String: ColumnKind] = [:]

    public init(values: [String: String], kinds: [String: ColumnKind] = [:]) {
        self.values = values
        self.kinds = kinds
    }
    public subscript(_ name: String) -> String? { values[name] }
    public func int(_ name: String) -> Int? { values[name].flatMap { Int($0) } }
    public func double(_ name: String) -> Double? { values[name].flatMap { Double($0) } }
    public func date(_ name: String) -> Date? { values[name].flatMap(Timestamp.parse) }
    public func bool(_ name: String) -> Bool? { values[name].map { $0 == "t" } }
}

private func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { $0.map { UnsafePointer(strdup($0)!) } }
    defer { copies.forEach { $0.map { free(UnsafeMutablePointer(mutating: $0)) } } }
    return body(copies)
}

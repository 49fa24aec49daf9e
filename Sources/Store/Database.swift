import Foundation

/// A small pool of connections to one database. Threads borrow a connection for the duration of a
/// closure; a broken connection is dropped instead of returned.
public final class Database: @unchecked Sendable {
    public let url: String
    private let lock = NSLock()
    private var idle: [Connection] = []
    private let maxIdle: Int

    public init(url: String, maxIdle: Int = 8) {
        self.url = url
        self.maxIdle = maxIdle
    }

    public func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        let connection: Connection
        lock.lock()
        if let c = idle.popLast() { lock.unlock(); connection = c } else { lock.unlock(); connection = try Connection(url: url) }
        do {
            let value = try body(connection)
            giveBack(connection)
            return value
        } catch {
            giveBack(connection)
            throw error
        }
    }

    private func giveBack(_ connection: Connection) {
        guard connection.isHealthy else { return }
        lock.lock(); defer { lock.unlock() }
        if idle.count < maxIdle { idle.append(connection) }
    }

    public func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        try withConnection { try $0.transaction(body) }
    }
}

import Foundation
import GRDB

/// The daemon's persistent state in SQLite (GRDB): tenants, jobs, sessions, trusted code, sealed secrets,
/// and the audit log. Everything that must survive a restart lives here; nothing else is kept on disk.
///
/// Takes any `DatabaseWriter`, so tests use an in-memory queue and the daemon a WAL pool.
public struct Store: Sendable {
    let writer: any DatabaseWriter

    /// Wraps `writer` and brings its schema up to date.
    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    /// Opens (or creates) the database file at `path` in WAL mode.
    public static func open(path: String) throws -> Store {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        let pool = try DatabasePool(path: path, configuration: configuration)
        return try Store(pool)
    }

    /// A fresh in-memory database (tests).
    public static func inMemory() throws -> Store {
        try Store(DatabaseQueue())
    }
}

/// Why the store could not do something the caller asked.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

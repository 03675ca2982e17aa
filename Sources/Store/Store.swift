import Foundation
import GRDB

/// The daemon's persistent state in SQLite (GRDB): tenants, jobs, sessions, trusted code, sealed secrets,
/// and the audit log. Everything that must survive a restart lives here; nothing else is kept on disk.
///
/// Takes any `DatabaseWriter`, so tests use an in-memory queue and the daemon a WAL pool.
public struct Store: Sendable {
    let writer: any DatabaseWriter
    /// Seals the audit log's head once the daemon hands it a key (``sealAudit(with:)``).
    let auditSeal = AuditSeal()
    /// Seals and authenticates the rows decisions depend on once the daemon hands it a key (``protectRows(with:at:)``).
    let protection = RowProtection()

    /// Wraps `writer` and brings its schema up to date.
    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
        // Every write goes through the writer's one connection: the appends there call the seal.
        try writer.writeWithoutTransaction { [auditSeal] db in db.add(function: auditSeal.function) }
    }

    /// Opens (or creates) the database file at `path` in WAL mode, every commit synced to disk.
    ///
    /// GRDB's pool sets `synchronous = NORMAL` on its WAL connections, under which a commit reaches the disk only at
    /// the next checkpoint: a power cut (an operator turning the VM off) could lose a job the daemon already answered
    /// 201 for, or the last audit events. Only the writer's connection commits, so `FULL` there makes every commit
    /// fsync the write-ahead log before it returns (about a millisecond here, measured in docs/benchmarks.md).
    public static func open(path: String) throws -> Store {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        let pool = try DatabasePool(path: path, configuration: configuration)
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        return try Store(pool)
    }

    /// The writer connection's `synchronous` setting (2 is `FULL`), for the test that holds ``open(path:)`` to it.
    public func synchronousMode() throws -> Int {
        try writer.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// A fresh in-memory database (tests).
    public static func inMemory() throws -> Store {
        try Store(DatabaseQueue())
    }
}

/// Why the store refused something the caller asked (database failures are GRDB's own errors).
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable, Sendable { case tenantHasAPIKey, sessionOfAnotherTenant }

    private let code: Code
    /// What was refused, naming the row concerned.
    public let message: String
    /// Where in our sources the error was raised.
    public let location: String

    private init(_ code: Code, _ message: String, file: String, line: Int) {
        self.code = code
        self.message = message
        self.location = "\(file):\(line)"
    }

    /// A JWT named a tenant that signed up for an API key: the two kinds of account never share an id.
    public static func tenantHasAPIKey(_ id: String, file: String = #fileID, line: Int = #line) -> Self {
        .init(.tenantHasAPIKey, "tenant \(id) belongs to an API-key account", file: file, line: line)
    }

    /// A session id is reserved by, or belongs to, another tenant (session ids are global).
    public static func sessionOfAnotherTenant(_ id: String, file: String = #fileID, line: Int = #line) -> Self {
        .init(.sessionOfAnotherTenant, "session \(id) belongs to another tenant", file: file, line: line)
    }

    public var description: String { message }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

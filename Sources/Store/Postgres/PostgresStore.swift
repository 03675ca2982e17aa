import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// The daemon's persistent state in PostgreSQL, for replicas that share one database: the same tables,
/// records and atomic operations as the SQLite ``Store``.
///
/// Every write runs in one transaction that first takes one advisory lock (``writeLock``), because every
/// audited write appends to the single audit chain: the chain is the serialisation point, exactly as
/// SQLite's single writer is. Admission quotas, claims, scope reservations and single-use challenges are
/// therefore as atomic across replicas as across workers. Reads take no lock.
///
/// A claimed job carries a lease (this replica's id and an expiry), renewed while the replica lives. A
/// job whose lease ran out (its replica died) is recorded `failed` (`interrupted`) once, by whichever
/// replica notices first; it is never run again. Each job change is announced with `NOTIFY` on
/// ``notifyChannel`` so long-polls and idle workers on every replica wake (``followJobChanges(_:)``).
public final class PostgresStore: Sendable {
    /// The channel job changes are announced on; the payload is `<replica> <job id>`.
    static let notifyChannel = "oauth3_job_changed"
    /// Advisory lock taken by every write transaction.
    static let writeLock: Int64 = 0x6f61_7574_6833_0001
    /// Advisory lock taken while migrating, so replicas starting together migrate once.
    static let migrationLock: Int64 = 0x6f61_7574_6833_0002

    let client: PostgresClient
    let logger: Logger
    /// This daemon's id among the replicas: the owner named in the leases it takes.
    public let replica: String
    /// How long a claim holds without renewal; renewed every third of it.
    public let lease: Duration
    let auditSeal = AuditSeal()
    /// Seals and authenticates the rows a decision depends on once the daemon hands it the row key
    /// (``protectRows(with:at:)``), exactly as the SQLite store does: the database is not trusted.
    let protection = RowProtection()
    private let background: Task<Void, Never>
    private let leaseKeeper: Task<Void, Never>

    /// Connects, brings the schema up to date, and starts renewing this replica's leases.
    /// - Parameters:
    ///   - replica: this daemon's id; a fresh random one by default (a restarted daemon is a new replica).
    ///   - lease: how long a claimed job stays this replica's without renewal.
    /// - Throws: the connection's or a migration's error; it never contains the URL's password.
    public static func connect(
        _ url: DatabaseURL, replica: String = "replica-" + UUID().uuidString.prefix(8).lowercased(), lease: Duration = .seconds(30),
        logger: Logger = Logger(label: "oauth3-enclave.store")
    ) async throws -> PostgresStore {
        // First one connection of its own, to migrate: a wrong address or password fails here at once
        // (the pool would retry in the background), and the migration runs before any pooled query.
        let connectionTLS: PostgresConnection.Configuration.TLS = switch url.tls {
        case .disable: .disable
        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        let connection = try await PostgresConnection.connect(
            configuration: .init(host: url.host, port: url.port, username: url.username, password: url.password, database: url.database, tls: connectionTLS),
            id: 0, logger: logger)
        do {
            try await migrate(Statements(connection: connection, logger: logger))
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
        let tls: PostgresClient.Configuration.TLS = switch url.tls {
        case .disable: .disable
        case .require: .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database, tls: tls)
        configuration.options.maximumConnections = 16
        return PostgresStore(client: PostgresClient(configuration: configuration, backgroundLogger: logger), replica: replica, lease: lease, logger: logger)
    }

    private init(client: PostgresClient, replica: String, lease: Duration, logger: Logger) {
        self.client = client
        self.replica = replica
        self.lease = lease
        self.logger = logger
        background = Task { await client.run() }
        leaseKeeper = Task { [client, replica, lease, logger] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: lease / 3) } catch { return }
                do {
                    let until = PostgresStore.milliseconds(now: Date()) + lease.wholeMilliseconds
                    try await client.query("UPDATE job SET \"leaseExpiresAt\" = \(until) WHERE \"leaseOwner\" = \(replica) AND status = 'executing'")
                } catch {
                    logger.warning("cannot renew this replica's job leases; retrying", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
        }
    }

    /// Stops renewing leases and closes the connections.
    public func close() async {
        leaseKeeper.cancel()
        _ = await leaseKeeper.value
        background.cancel()
        _ = await background.value
    }

    static func milliseconds(now: Date) -> Int64 { Int64((now.timeIntervalSince1970 * 1000).rounded(.down)) }

    /// Runs `body` in a transaction holding the write lock; rolls back when it throws, and rethrows its error.
    func write<R: Sendable>(_ body: @Sendable (Statements) async throws -> R) async throws -> R {
        try await client.withConnection { connection in
            let transaction = Statements(connection: connection, logger: logger, protection: protection)
            try await transaction.execute("BEGIN")
            do {
                try await transaction.execute("SELECT pg_advisory_xact_lock(\(Self.writeLock))")
                let result = try await body(transaction)
                try await transaction.execute("COMMIT")
                return result
            } catch {
                try? await transaction.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Runs `body` on a connection outside any transaction (each statement sees the latest commit).
    func read<R: Sendable>(_ body: @Sendable (Statements) async throws -> R) async throws -> R {
        try await client.withConnection { connection in try await body(Statements(connection: connection, logger: logger, protection: protection)) }
    }

    /// Calls `onChange` with the id of each job another replica changes, until cancelled. Holds one
    /// connection for `LISTEN`; when it drops, listens again after a second.
    public func followJobChanges(_ onChange: @escaping @Sendable (String) async -> Void) async {
        let own = replica + " "
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.notifyChannel) { notifications in
                        for try await notification in notifications where !notification.payload.hasPrefix(own) {
                            guard let space = notification.payload.firstIndex(of: " ") else { continue }
                            await onChange(String(notification.payload[notification.payload.index(after: space)...]))
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("lost the job-change feed; listening again", metadata: ["error": "\(String(reflecting: error))"])
            }
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }
}

/// One connection's statements, inside a transaction or not.
///
/// Protected records (``ProtectedRow``) pass through the store's ``RowProtection`` on the way in and out,
/// as in the SQLite store: ``insert(_:into:)`` and ``update(_:in:where:is:)`` seal their tenant-supplied
/// columns and write their MAC (`integrityMAC`), ``records(_:_:)`` opens and checks them and throws an
/// ``IntegrityViolation`` for a row changed outside the daemon.
struct Statements: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// `nil` while migrating (no record is read or written then).
    var protection: RowProtection? = nil

    func execute(_ query: PostgresQuery) async throws {
        try await connection.query(query, logger: logger)
    }

    /// Rows of a query whose one column is a row as JSON (`row_to_json(…)::text`), decoded as `R`, each
    /// protected one opened and checked.
    /// - Throws: ``IntegrityViolation`` for the first row that does not verify.
    func records<R: Decodable>(_ type: R.Type, _ query: PostgresQuery) async throws -> [R] {
        try await stored(type, query).map { try opened($0.record, mac: $0.mac) }
    }

    func record<R: Decodable>(_ type: R.Type, _ query: PostgresQuery) async throws -> R? {
        try await records(type, query).first
    }

    /// Rows as stored (sealed columns still sealed), each with its MAC: for the callers that end a job
    /// whose row does not verify instead of refusing the whole step (``PostgresStore/openedOrFailed(_:_:mac:at:failed:)``).
    func stored<R: Decodable>(_ type: R.Type, _ query: PostgresQuery) async throws -> [(record: R, mac: String?)] {
        var records: [(R, String?)] = []
        for try await json in try await connection.query(query, logger: logger).decode(String.self) {
            records.append((try RowCoding.record(type, from: json), try RowCoding.record(StoredMAC.self, from: json).integrityMAC))
        }
        return records
    }

    /// `record` opened and checked when it is a protected row and a key is set; as it is otherwise.
    func opened<R>(_ record: R, mac: String?) throws -> R {
        guard let protection, let row = record as? any ProtectedRow else { return record }
        return try open(row, mac: mac, with: protection) as! R
    }

    private func open<Row: ProtectedRow>(_ row: Row, mac: String?, with protection: RowProtection) throws -> Row {
        try protection.opened(row, mac: mac)
    }

    /// The JSON object a record is written as: sealed columns sealed, with its MAC and bookkeeping columns.
    private func storedJSON(_ record: some Encodable) throws -> (json: String, extraColumns: [String]) {
        guard let protection, let row = record as? any (ProtectedRow & Encodable) else { return (try RowCoding.json(record), []) }
        return try storedJSON(row, with: protection)
    }

    private func storedJSON<Row: ProtectedRow & Encodable>(_ row: Row, with protection: RowProtection) throws -> (json: String, extraColumns: [String]) {
        let (sealed, mac) = try protection.stored(row)
        guard var object = try JSONSerialization.jsonObject(with: Data(RowCoding.json(sealed).utf8)) as? [String: Any] else {
            throw EncodingError.invalidValue(sealed, .init(codingPath: [], debugDescription: "a record is not a JSON object"))
        }
        object["integrityMAC"] = mac ?? NSNull()
        var extra = ["integrityMAC"]
        if let job = row as? JobRecord {
            // The stored-bytes quota counts what the tenant sent and got, not the sealed form.
            object["plainBytes"] = (job.code?.utf8.count ?? 0) + (job.resultJSON?.utf8.count ?? 0)
            extra.append("plainBytes")
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return (String(decoding: data, as: UTF8.self), extra)
    }

    /// The first column of each row.
    func values<T: PostgresDecodable & Sendable>(_ type: T.Type, _ query: PostgresQuery) async throws -> [T] {
        var values: [T] = []
        for try await value in try await connection.query(query, logger: logger).decode(T.self) { values.append(value) }
        return values
    }

    func value<T: PostgresDecodable & Sendable>(_ type: T.Type, _ query: PostgresQuery) async throws -> T? {
        try await values(type, query).first
    }

    /// Each row as a tuple of its columns.
    func rows<each Column: PostgresDecodable & Sendable>(_ types: (repeat each Column).Type, _ query: PostgresQuery) async throws -> [(repeat each Column)] {
        var rows: [(repeat each Column)] = []
        for try await row in try await connection.query(query, logger: logger).decode(types) { rows.append(row) }
        return rows
    }

    /// Inserts `record` into `table`: its non-nil properties, through `json_populate_record`.
    func insert(_ record: some Encodable, into table: String) async throws {
        let json = try storedJSON(record).json
        let keys = try (JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]).keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
        try await execute("INSERT INTO \(unescaped: "\"\(table)\"") (\(unescaped: keys)) SELECT \(unescaped: keys) FROM json_populate_record(NULL::\(unescaped: "\"\(table)\""), \(json)::json)")
    }

    /// Writes every property of `record` (nil ones as NULL) to the row of `table` where `key` is `value`
    /// (and, for a key of two columns, `tenantId` is `tenant`).
    func update(_ record: some Encodable, in table: String, where key: String, is value: String, andTenant tenant: String? = nil) async throws {
        let (json, extra) = try storedJSON(record)
        let columns = ([RowCoding.columns(of: record)] + extra.map { "\"\($0)\"" }).joined(separator: ", ")
        if let tenant {
            try await execute("""
                UPDATE \(unescaped: "\"\(table)\"") SET (\(unescaped: columns)) = (SELECT \(unescaped: columns) FROM json_populate_record(NULL::\(unescaped: "\"\(table)\""), \(json)::json))
                WHERE \(unescaped: "\"\(key)\"") = \(value) AND "tenantId" = \(tenant)
                """)
        } else {
            try await execute("""
                UPDATE \(unescaped: "\"\(table)\"") SET (\(unescaped: columns)) = (SELECT \(unescaped: columns) FROM json_populate_record(NULL::\(unescaped: "\"\(table)\""), \(json)::json))
                WHERE \(unescaped: "\"\(key)\"") = \(value)
                """)
        }
    }

    /// Announces that a job changed, delivered when the transaction commits.
    func notifyChanged(job id: String, replica: String) async throws {
        try await execute("SELECT pg_notify(\(PostgresStore.notifyChannel), \(replica + " " + id))")
    }
}

/// The MAC column of a stored row, read beside the record.
private struct StoredMAC: Decodable {
    let integrityMAC: String?
}

extension Duration {
    var wholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

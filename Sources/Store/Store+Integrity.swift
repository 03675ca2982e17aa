import Crypto
import Foundation
import GRDB

/// The database-side of row protection (see `Integrity/`): every protected row is written through
/// ``insert(_:_:)`` / ``update(_:_:)`` and read through ``fetchOne(_:_:)`` / ``fetchAll(_:_:)``, which seal,
/// MAC, open and check it; a row that does not verify is refused with an ``IntegrityViolation``.
extension Store {
    /// Audit event of a refused row; `integrity.rows_protected` marks the one conversion of plaintext rows.
    static let violationEvent = "integrity_violation"
    static let conversionEvent = "integrity.rows_protected"
    /// The tables whose rows are authenticated (a closed set: metrics label by it).
    public static let protectedTables = [
        TenantRecord.tableName, JobRecord.tableName, SessionRecord.tableName, TrustedCodeRecord.tableName, ApproverRecord.tableName,
    ]

    /// From now on, seals and authenticates rows with `key` (the daemon derives it from the vault key, which
    /// the database's operator does not hold).
    ///
    /// The first time (no `integrity.rows_protected` entry in the audit log), rows written before (plaintext,
    /// no MAC) are sealed and authenticated as they stand, trusted on first use, and the log records it.
    /// Never again: afterwards a row without a MAC is a violation. Nothing is converted while the audit log
    /// is broken (someone may have removed the marker to have rows of theirs converted).
    public func protectRows(with key: SymmetricKey, at now: Int64) async throws -> RowConversion {
        protection.set(RowCipher(rowKey: key))
        var intact = true
        if case .broken = try await auditIntegrity() { intact = false }
        return try await writer.write { [self, intact] db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM audit WHERE event = ?)", arguments: [Self.conversionEvent]) == true {
                return .alreadyProtected
            }
            guard intact else { return .refused }
            var rows = 0
            for tenant in try TenantRecord.fetchAll(db) { try update(db, tenant); rows += 1 }
            for job in try JobRecord.fetchAll(db) { try update(db, job); rows += 1 }
            for session in try SessionRecord.fetchAll(db) { try update(db, session); rows += 1 }
            for trusted in try TrustedCodeRecord.fetchAll(db) { try update(db, trusted); rows += 1 }
            for approver in try ApproverRecord.fetchAll(db) { try update(db, approver); rows += 1 }
            try Self.appendAudit(db, tenant: nil, job: nil, event: Self.conversionEvent, detail: ["rows": String(rows)], at: now)
            return .protectedNow(rows: rows)
        }
    }

    /// Tells `observer` of each violation the first time this daemon finds it (metrics, long-polls).
    public func onIntegrityViolation(_ observer: @escaping @Sendable (IntegrityViolation) -> Void) {
        protection.observe(observer)
    }

    /// Whether rows are sealed and checked (a key was given).
    public var rowsProtected: Bool { protection.isOn }

    // MARK: reads and writes of protected rows

    func fetchOne<Record: ProtectedRow & FetchableRecord & TableRecord>(_ db: Database, _ request: QueryInterfaceRequest<Record>) throws -> Record? {
        try GRDB.Row.fetchOne(db, request).map { try opened($0) }
    }

    func fetchAll<Record: ProtectedRow & FetchableRecord & TableRecord>(_ db: Database, _ request: QueryInterfaceRequest<Record>) throws -> [Record] {
        try GRDB.Row.fetchAll(db, request).map { try opened($0) }
    }

    func opened<Record: ProtectedRow & FetchableRecord>(_ row: GRDB.Row) throws -> Record {
        try protection.opened(try Record(row: row), mac: row["integrityMAC"])
    }

    func insert<Record: ProtectedRow & PersistableRecord & StoredRow>(_ db: Database, _ record: Record, onConflict: Database.ConflictResolution? = nil) throws {
        let (stored, mac) = try protection.stored(record)
        try stored.insert(db, onConflict: onConflict)
        try stamp(db, record, mac: mac)
    }

    func update<Record: ProtectedRow & PersistableRecord & StoredRow>(_ db: Database, _ record: Record) throws {
        let (stored, mac) = try protection.stored(record)
        try stored.update(db)
        try stamp(db, record, mac: mac)
    }

    private func stamp<Record: ProtectedRow & PersistableRecord & StoredRow>(_ db: Database, _ record: Record, mac: String?) throws {
        try Record.filter(key: record.storedKey).updateAll(db, [Column("integrityMAC").set(to: mac)] + record.bookkeeping)
    }

    /// Approvers are revoked, never deleted: a tenant without an active approver whose audit log records the
    /// enrolment of a passkey that has no row any more lost it outside the daemon, which would otherwise
    /// silently hand its decisions back to the approval link's token (whoever holds the link).
    func checkNoApproverDeleted(_ db: Database, tenant: String) throws {
        guard protection.isOn else { return }
        let enrolled = try String.fetchAll(db, sql: """
            SELECT json_extract(detail, '$.approver') FROM audit
            WHERE tenantId = ? AND event IN ('tenant.signup', 'approver.enrolled', 'approver.claimed') AND json_extract(detail, '$.approver') IS NOT NULL
            """, arguments: [tenant])
        guard !enrolled.isEmpty else { return }
        let present = Set(try String.fetchAll(db, sql: "SELECT credentialId FROM approver WHERE tenantId = ?", arguments: [tenant]))
        if let missing = enrolled.first(where: { !present.contains($0) }) {
            throw IntegrityViolation(table: ApproverRecord.tableName, row: missing, reason: "the row is missing: the audit log records its enrolment, and approvers are revoked, never deleted")
        }
    }

    /// Runs `work`; a violation it meets is audited (once per row and reason per daemon run) before it is rethrown.
    func reporting<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let violation as IntegrityViolation {
            try await report(violation)
            throw violation
        }
    }

    func report(_ violation: IntegrityViolation) async throws {
        guard protection.isNew(violation) else { return }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try await writer.write { db in
            try Self.appendAudit(db, tenant: nil, job: violation.table == JobRecord.tableName ? violation.row : nil, event: Self.violationEvent,
                                 detail: ["table": violation.table, "row": violation.row, "reason": violation.reason], at: now)
        }
    }

    /// The job a stored row holds, or `nil` when the row does not verify: then the job ends here, once, as
    /// `failed` (`integrity_violation`) with the reason, its code, args, result and consent dropped, the row
    /// authenticated again in that state (so it is never run, served, or failed twice), and audited.
    func openedOrFailed(_ db: Database, _ row: GRDB.Row, at now: Int64, failed: inout [IntegrityViolation]) throws -> JobRecord? {
        do {
            return try opened(row)
        } catch let violation as IntegrityViolation {
            let job = try JobRecord(row: row).failed(for: violation, at: now)
            try update(db, job)
            try Self.appendAudit(db, tenant: job.tenantId, job: job.id, event: Self.violationEvent,
                                 detail: ["table": violation.table, "row": violation.row, "reason": violation.reason, "status": "failed"], at: now)
            failed.append(violation)
            return nil
        }
    }

    /// Tells the observer of jobs failed by ``openedOrFailed(_:_:at:failed:)``, once their transaction committed.
    func announce(_ violations: [IntegrityViolation]) {
        for violation in violations { _ = protection.isNew(violation) }
    }
}

extension JobRecord {
    /// The job ended for a row that does not verify: `failed` (`integrity_violation`) with the reason, and
    /// nothing of what the row held (code, args, result, consent) kept, since none of it can be trusted.
    func failed(for violation: IntegrityViolation, at now: Int64) -> JobRecord {
        var job = self
        job.status = .failed
        job.outcome = "integrity_violation"
        job.error = violation.description
        (job.code, job.argsJSON, job.scopeJSON, job.resultJSON, job.consentJSON) = (nil, nil, nil, nil, nil)
        job.completedAt = now
        job.updatedAt = now
        return job
    }
}

extension ProtectedRow where Self: TableRecord {
    /// The table GRDB names.
    public static var tableName: String { databaseTableName }
}

/// What ``Store/protectRows(with:at:)`` did.
public enum RowConversion: Sendable, Hashable {
    /// The rows were protected already.
    case alreadyProtected
    /// This start sealed and authenticated `rows` rows written before, trusting them as they stood.
    case protectedNow(rows: Int)
    /// The audit log is broken, so no plaintext row was converted: rows without a MAC are refused.
    case refused
}

/// How the SQLite store finds a protected row again to stamp its MAC, and columns it keeps beside it.
protocol StoredRow {
    var storedKey: [String: (any DatabaseValueConvertible)?] { get }
    /// Columns derived from the plaintext, written with the MAC.
    var bookkeeping: [ColumnAssignment] { get }
}

extension StoredRow {
    var bookkeeping: [ColumnAssignment] { [] }
}

extension JobRecord: StoredRow {
    var storedKey: [String: (any DatabaseValueConvertible)?] { ["id": id] }
    /// Bytes of code and result as the tenant sent and got them (the `stored_bytes` quota), not as sealed.
    var bookkeeping: [ColumnAssignment] { [Column("plainBytes").set(to: (code?.utf8.count ?? 0) + (resultJSON?.utf8.count ?? 0))] }
}

extension TenantRecord: StoredRow {
    var storedKey: [String: (any DatabaseValueConvertible)?] { ["id": id] }
}

extension SessionRecord: StoredRow {
    var storedKey: [String: (any DatabaseValueConvertible)?] { ["id": id] }
}

extension TrustedCodeRecord: StoredRow {
    var storedKey: [String: (any DatabaseValueConvertible)?] { ["tenantId": tenantId, "codeSHA256": codeSHA256] }
}

extension ApproverRecord: StoredRow {
    var storedKey: [String: (any DatabaseValueConvertible)?] { ["credentialId": credentialId] }
}

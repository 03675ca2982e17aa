import Crypto
import Foundation
import PostgresNIO

/// Row protection in PostgreSQL, the same as the SQLite store's (`Store+Integrity.swift`, `Integrity/`):
/// the same key, encodings, seals and MACs, checked by every replica. The calls differ only in SQL.
extension PostgresStore {
    /// From now on, seals and authenticates rows with `key` (``Store/protectRows(with:at:)`` says how the
    /// one conversion of rows written before works). Replicas starting together convert once: the
    /// conversion runs under the write lock and checks for the audit log's marker first.
    public func protectRows(with key: SymmetricKey, at now: Int64) async throws -> RowConversion {
        protection.set(RowCipher(rowKey: key))
        var intact = true
        if case .broken = try await auditIntegrity() { intact = false }
        return try await write { [intact] transaction in
            if try await transaction.value(Int64.self, #"SELECT COUNT(*) FROM audit WHERE "event" = \#(Store.conversionEvent)"#) ?? 0 > 0 {
                return .alreadyProtected
            }
            guard intact else { return .refused }
            // Read as stored: these rows have no MAC yet, and their columns are not sealed.
            var rows = 0
            for (tenant, _) in try await transaction.stored(TenantRecord.self, "SELECT row_to_json(t)::text FROM tenant t") {
                try await transaction.update(tenant, in: "tenant", where: "id", is: tenant.id); rows += 1
            }
            for (job, _) in try await transaction.stored(JobRecord.self, "SELECT row_to_json(j)::text FROM job j") {
                try await transaction.update(job, in: "job", where: "id", is: job.id); rows += 1
            }
            for (session, _) in try await transaction.stored(SessionRecord.self, "SELECT row_to_json(s)::text FROM session s") {
                try await transaction.update(session, in: "session", where: "id", is: session.id); rows += 1
            }
            for (trusted, _) in try await transaction.stored(TrustedCodeRecord.self, #"SELECT row_to_json(t)::text FROM "trustedCode" t"#) {
                try await self.updateTrusted(transaction, trusted); rows += 1
            }
            for (approver, _) in try await transaction.stored(ApproverRecord.self, "SELECT row_to_json(a)::text FROM approver a") {
                try await transaction.update(approver, in: "approver", where: "credentialId", is: approver.credentialId); rows += 1
            }
            try await self.appendAudit(transaction, tenant: nil, job: nil, event: Store.conversionEvent, detail: ["rows": String(rows)], at: now)
            return .protectedNow(rows: rows)
        }
    }

    /// Tells `observer` of each violation the first time this daemon finds it (metrics, long-polls).
    public func onIntegrityViolation(_ observer: @escaping @Sendable (IntegrityViolation) -> Void) {
        protection.observe(observer)
    }

    /// The audit log's recorded head, `nil` while the log is empty.
    public func auditHead() async throws -> (seq: Int64, hash: String)? {
        try await read { transaction in
            try await transaction.rows((Int64, String).self, #"SELECT "seq", "hash" FROM "auditHead" WHERE "id" = 1"#).first.map { (seq: $0.0, hash: $0.1) }
        }
    }

    /// Trusted code's primary key has two columns: written with both.
    func updateTrusted(_ transaction: Statements, _ trusted: TrustedCodeRecord) async throws {
        try await transaction.update(trusted, in: "trustedCode", where: "codeSHA256", is: trusted.codeSHA256, andTenant: trusted.tenantId)
    }

    /// Runs `work`; a violation it meets is audited (once per row and reason per daemon run) before it is rethrown.
    func reporting<T: Sendable>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let violation as IntegrityViolation {
            if protection.isNew(violation) {
                let now = Self.milliseconds(now: Date())
                try await write { transaction in
                    try await self.appendAudit(transaction, tenant: nil, job: violation.table == JobRecord.tableName ? violation.row : nil,
                                               event: Store.violationEvent, detail: ["table": violation.table, "row": violation.row, "reason": violation.reason], at: now)
                }
            }
            throw violation
        }
    }

    /// ``Store/openedOrFailed(_:_:at:failed:)``: the job a stored row holds, or `nil` when the row does not
    /// verify; then the job ends here, once, `failed` (`integrity_violation`), its code, args, result and
    /// consent dropped, the row authenticated again in that state, and audited.
    func openedOrFailed(_ transaction: Statements, _ stored: JobRecord, mac: String?, at now: Int64, failed: inout [IntegrityViolation]) async throws -> JobRecord? {
        do {
            return try transaction.opened(stored, mac: mac)
        } catch let violation as IntegrityViolation {
            let job = stored.failed(for: violation, at: now)
            try await transaction.update(job, in: "job", where: "id", is: job.id)
            try await appendAudit(transaction, tenant: job.tenantId, job: job.id, event: Store.violationEvent,
                                  detail: ["table": violation.table, "row": violation.row, "reason": violation.reason, "status": "failed"], at: now)
            try await transaction.notifyChanged(job: job.id, replica: replica)
            failed.append(violation)
            return nil
        }
    }

    /// Tells the observer of jobs failed by ``openedOrFailed(_:_:mac:at:failed:)``, once their transaction committed.
    func announce(_ violations: [IntegrityViolation]) {
        for violation in violations { _ = protection.isNew(violation) }
    }

    /// ``Store/checkNoApproverDeleted(_:tenant:)``: approvers are revoked, never deleted, so an enrolment in
    /// the audit log without its row means the row was removed outside the daemon.
    func checkNoApproverDeleted(_ transaction: Statements, tenant: String) async throws {
        guard protection.isOn else { return }
        let enrolled = try await transaction.values(String.self, """
            SELECT "detail"::json->>'approver' FROM audit WHERE "tenantId" = \(tenant)
            AND "event" IN ('tenant.signup', 'approver.enrolled', 'approver.claimed') AND "detail"::json->>'approver' IS NOT NULL
            """)
        guard !enrolled.isEmpty else { return }
        let present = Set(try await transaction.values(String.self, #"SELECT "credentialId" FROM approver WHERE "tenantId" = \#(tenant)"#))
        if let missing = enrolled.first(where: { !present.contains($0) }) {
            throw IntegrityViolation(table: ApproverRecord.tableName, row: missing, reason: "the row is missing: the audit log records its enrolment, and approvers are revoked, never deleted")
        }
    }
}

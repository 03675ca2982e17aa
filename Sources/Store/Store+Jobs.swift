import Foundation
import GRDB

extension Store {
    /// The job `id` if it belongs to `tenant` (another tenant's job is indistinguishable from a missing one).
    public func job(id: String, tenant: String) async throws -> JobRecord? {
        try await reporting {
            try await writer.read { [self] db in try fetchOne(db, JobRecord.filter(Column("id") == id && Column("tenantId") == tenant)) }
        }
    }

    /// The job `id`, whoever owns it (approval by token).
    public func job(id: String) async throws -> JobRecord? {
        try await reporting { try await writer.read { [self] db in try fetchOne(db, JobRecord.filter(key: id)) } }
    }

    /// Changes a job only if its status is one of `from`, atomically, and audits the change.
    /// - Returns: the updated job, or `nil` when it was not in one of those statuses (someone else won).
    /// - Throws: ``IntegrityViolation`` when the job's row does not verify: the job has then ended `failed`
    ///   (`integrity_violation`) instead, once (``openedOrFailed(_:_:at:failed:)``).
    public func transition(
        _ id: String, from: Set<JobStatus>, at now: Int64, event: String, detail: [String: String] = [:],
        _ change: @escaping @Sendable (inout JobRecord) -> Void
    ) async throws -> JobRecord? {
        let (value, failed) = try await writer.write { [self] db -> (JobRecord?, [IntegrityViolation]) in
            var failed: [IntegrityViolation] = []
            guard let row = try GRDB.Row.fetchOne(db, JobRecord.filter(key: id)),
                  var job = try openedOrFailed(db, row, at: now, failed: &failed), from.contains(job.status)
            else { return (nil, failed) }
            change(&job)
            job.updatedAt = now
            try update(db, job)
            var fields = detail
            fields["status"] = job.status.rawValue
            try Self.appendAudit(db, tenant: job.tenantId, job: id, event: event, detail: fields, at: now)
            return (job, failed)
        }
        announce(failed)
        if let violation = failed.first { throw violation }
        return value
    }

    /// How many jobs wait for a worker.
    public func queuedJobCount() async throws -> Int {
        try await writer.read { db in try JobRecord.filter(Column("status") == JobStatus.approved.rawValue).fetchCount(db) }
    }

    /// After a restart: jobs that were running become `failed` (`interrupted`: jobs are not idempotent,
    /// so none runs twice). Approved jobs stay queued; their ids, oldest first, are returned for the log.
    public func recoverAfterRestart(at now: Int64) async throws -> [String] {
        let (value, failed) = try await writer.write { [self] db -> ([String], [IntegrityViolation]) in
            var failed: [IntegrityViolation] = []
            let running = try GRDB.Row.fetchAll(db, JobRecord.filter(Column("status") == JobStatus.executing.rawValue))
            for row in running {
                guard var job = try openedOrFailed(db, row, at: now, failed: &failed) else { continue }
                job.status = .failed
                job.error = "interrupted: the enclave restarted while the job was running"
                job.outcome = "interrupted"
                job.completedAt = now
                job.updatedAt = now
                try update(db, job)
                try Self.appendAudit(db, tenant: job.tenantId, job: job.id, event: "job.interrupted", detail: ["status": "failed"], at: now)
            }
            return (try String.fetchAll(db, sql: "SELECT id FROM job WHERE status = ? ORDER BY approvedAt, createdAt", arguments: [JobStatus.approved.rawValue]), failed)
        }
        announce(failed)
        return value
    }

    /// The tenant's executions, newest first.
    public func history(tenant: String, limit: Int) async throws -> [JobRecord] {
        try await reporting {
            try await writer.read { [self] db in
                try fetchAll(db, JobRecord.filter(Column("tenantId") == tenant && Column("kind") == "execute")
                    .order(Column("createdAt").desc, Column("id").desc).limit(limit))
            }
        }
    }

    /// Remembers that `tenant` trusts the code with this hash, with the consent that said so and an optional
    /// expiry and run count. Trusting it again replaces those.
    public func trust(codeSHA256: String, tenant: String, at now: Int64, consentJSON: String? = nil, expiresAt: Int64? = nil, maxRuns: Int? = nil) async throws {
        try await writer.write { [self] db in
            let trusted = TrustedCodeRecord(tenantId: tenant, codeSHA256: codeSHA256, createdAt: now, consentJSON: consentJSON, expiresAt: expiresAt, maxRuns: maxRuns, runs: 0)
            try insert(db, trusted, onConflict: .replace)
            try Self.appendAudit(db, tenant: tenant, job: nil, event: "code.trusted", detail: ["code_sha256": codeSHA256], at: now)
        }
    }

    /// The tenant's trust in this code, when it is still in force at `now` (not expired, runs left).
    public func trustedCode(codeSHA256: String, tenant: String, at now: Int64) async throws -> TrustedCodeRecord? {
        try await reporting {
            try await writer.read { [self] db in
                try fetchOne(db, TrustedCodeRecord.filter(Column("tenantId") == tenant && Column("codeSHA256") == codeSHA256)).flatMap { $0.isActive(at: now) ? $0 : nil }
            }
        }
    }

    /// The tenant's trusted code, newest first.
    public func trustedCode(tenant: String) async throws -> [TrustedCodeRecord] {
        try await reporting {
            try await writer.read { [self] db in try fetchAll(db, TrustedCodeRecord.filter(Column("tenantId") == tenant).order(Column("createdAt").desc)) }
        }
    }

    /// Stops trusting the code; `false` when the tenant did not trust it.
    public func untrust(codeSHA256: String, tenant: String, at now: Int64) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM trustedCode WHERE tenantId = ? AND codeSHA256 = ?", arguments: [tenant, codeSHA256])
            guard db.changesCount > 0 else { return false }
            try Self.appendAudit(db, tenant: tenant, job: nil, event: "code.untrusted", detail: ["code_sha256": codeSHA256], at: now)
            return true
        }
    }

    /// Counts one run approved by trusted code.
    public func recordTrustedUse(codeSHA256: String, tenant: String) async throws {
        try await reporting {
            try await writer.write { [self] db in
                guard var trusted = try fetchOne(db, TrustedCodeRecord.filter(Column("tenantId") == tenant && Column("codeSHA256") == codeSHA256)) else { return }
                trusted.runs += 1
                try update(db, trusted)
            }
        }
    }
}

extension Store {
    /// The tenant's jobs waiting for secret values.
    public func jobsAwaitingSecrets(tenant: String) async throws -> [JobRecord] {
        try await reporting {
            try await writer.read { [self] db in
                try fetchAll(db, JobRecord.filter(Column("tenantId") == tenant && Column("status") == JobStatus.awaitingSecrets.rawValue))
            }
        }
    }
}

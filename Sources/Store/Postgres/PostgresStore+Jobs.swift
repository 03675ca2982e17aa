import Foundation
import PostgresNIO

extension PostgresStore {
    public func job(id: String, tenant: String) async throws -> JobRecord? {
        try await reporting { try await read { try await $0.record(JobRecord.self, #"SELECT row_to_json(j)::text FROM job j WHERE "id" = \#(id) AND "tenantId" = \#(tenant)"#) } }
    }

    public func job(id: String) async throws -> JobRecord? {
        try await reporting { try await read { try await $0.record(JobRecord.self, #"SELECT row_to_json(j)::text FROM job j WHERE "id" = \#(id)"#) } }
    }

    public func transition(
        _ id: String, from: Set<JobStatus>, at now: Int64, event: String, detail: [String: String],
        _ change: @escaping @Sendable (inout JobRecord) -> Void
    ) async throws -> JobRecord? {
        let (value, failed) = try await write { transaction -> (JobRecord?, [IntegrityViolation]) in
            var failed: [IntegrityViolation] = []
            guard let stored = try await transaction.stored(JobRecord.self, #"SELECT row_to_json(j)::text FROM job j WHERE "id" = \#(id) FOR UPDATE"#).first,
                  var job = try await self.openedOrFailed(transaction, stored.record, mac: stored.mac, at: now, failed: &failed),
                  from.contains(job.status) else { return (nil, failed) }
            change(&job)
            job.updatedAt = now
            try await transaction.update(job, in: "job", where: "id", is: id)
            var fields = detail
            fields["status"] = job.status.rawValue
            try await self.appendAudit(transaction, tenant: job.tenantId, job: id, event: event, detail: fields, at: now)
            try await transaction.notifyChanged(job: id, replica: self.replica)
            return (job, failed)
        }
        announce(failed)
        if let violation = failed.first { throw violation }
        return value
    }

    public func queuedJobCount() async throws -> Int {
        try await read { Int(try await $0.value(Int64.self, "SELECT COUNT(*) FROM job WHERE status = \(JobStatus.approved.rawValue)") ?? 0) }
    }

    /// At start: jobs whose lease has run out are interrupted (``interruptExpiredLeases(at:)``); jobs other
    /// replicas are running now are theirs and stay. Approved jobs stay queued; their ids are returned.
    public func recoverAfterRestart(at now: Int64) async throws -> [String] {
        _ = try await interruptExpiredLeases(at: now)
        return try await read {
            try await $0.values(String.self, #"SELECT "id" FROM job WHERE status = \#(JobStatus.approved.rawValue) ORDER BY "approvedAt" NULLS FIRST, "createdAt""#)
        }
    }

    public func history(tenant: String, limit: Int) async throws -> [JobRecord] {
        try await reporting {
            try await read {
                try await $0.records(JobRecord.self, """
                    SELECT row_to_json(j)::text FROM job j WHERE "tenantId" = \(tenant) AND "kind" = 'execute' ORDER BY "createdAt" DESC, "id" DESC LIMIT \(limit)
                    """)
            }
        }
    }

    public func jobsAwaitingSecrets(tenant: String) async throws -> [JobRecord] {
        try await reporting {
            try await read {
                try await $0.records(JobRecord.self, #"SELECT row_to_json(j)::text FROM job j WHERE "tenantId" = \#(tenant) AND status = \#(JobStatus.awaitingSecrets.rawValue)"#)
            }
        }
    }

    public func trust(codeSHA256: String, tenant: String, at now: Int64, consentJSON: String?, expiresAt: Int64?, maxRuns: Int?) async throws {
        try await write { transaction in
            // Replaced whole, so the new row carries its own MAC (an earlier trust's row is not read back).
            try await transaction.execute(#"DELETE FROM "trustedCode" WHERE "tenantId" = \#(tenant) AND "codeSHA256" = \#(codeSHA256)"#)
            try await transaction.insert(TrustedCodeRecord(tenantId: tenant, codeSHA256: codeSHA256, createdAt: now, consentJSON: consentJSON,
                                                           expiresAt: expiresAt, maxRuns: maxRuns, runs: 0), into: "trustedCode")
            try await self.appendAudit(transaction, tenant: tenant, job: nil, event: "code.trusted", detail: ["code_sha256": codeSHA256], at: now)
        }
    }

    public func trustedCode(codeSHA256: String, tenant: String, at now: Int64) async throws -> TrustedCodeRecord? {
        try await reporting {
            try await read {
                try await $0.record(TrustedCodeRecord.self, """
                    SELECT row_to_json(t)::text FROM "trustedCode" t WHERE "tenantId" = \(tenant) AND "codeSHA256" = \(codeSHA256)
                    """).flatMap { $0.isActive(at: now) ? $0 : nil }
            }
        }
    }

    public func trustedCode(tenant: String) async throws -> [TrustedCodeRecord] {
        try await reporting {
            try await read {
                try await $0.records(TrustedCodeRecord.self, #"SELECT row_to_json(t)::text FROM "trustedCode" t WHERE "tenantId" = \#(tenant) ORDER BY "createdAt" DESC"#)
            }
        }
    }

    public func untrust(codeSHA256: String, tenant: String, at now: Int64) async throws -> Bool {
        try await write { transaction in
            let deleted = try await transaction.values(Int64.self, """
                DELETE FROM "trustedCode" WHERE "tenantId" = \(tenant) AND "codeSHA256" = \(codeSHA256) RETURNING 1::bigint
                """)
            guard !deleted.isEmpty else { return false }
            try await self.appendAudit(transaction, tenant: tenant, job: nil, event: "code.untrusted", detail: ["code_sha256": codeSHA256], at: now)
            return true
        }
    }

    public func recordTrustedUse(codeSHA256: String, tenant: String) async throws {
        try await reporting {
            try await write { transaction in
                // Read, checked, counted and authenticated again: a blind `runs + 1` would bless a tampered row.
                guard var trusted = try await transaction.record(TrustedCodeRecord.self, """
                    SELECT row_to_json(t)::text FROM "trustedCode" t WHERE "tenantId" = \(tenant) AND "codeSHA256" = \(codeSHA256) FOR UPDATE
                    """) else { return }
                trusted.runs += 1
                try await self.updateTrusted(transaction, trusted)
            }
        }
    }

    public func ping() async throws {
        _ = try await read { try await $0.value(Int64.self, "SELECT 1::bigint") }
    }
}

import Foundation
import PostgresNIO

extension PostgresStore {
    public func admit(_ job: JobRecord, limits: AdmissionLimits) async throws {
        try await write { try await self.admit($0, job, limits: limits) }
    }

    /// ``Store/admit(_:limits:)`` inside the caller's write transaction.
    func admit(_ transaction: Statements, _ job: JobRecord, limits: AdmissionLimits) async throws {
        if job.status.awaitsHuman {
            let pending = try await count(transaction, tenant: job.tenantId, statuses: [.pending, .pendingScope, .awaitingSecrets])
            if pending >= limits.pendingRequests { throw AdmissionRefusal(limit: .pendingRequests, maximum: limits.pendingRequests) }
        }
        if job.status == .approved {
            let queued = try await transaction.value(Int64.self, "SELECT COUNT(*) FROM job WHERE status = \(JobStatus.approved.rawValue)") ?? 0
            if queued >= limits.queuedJobs { throw AdmissionRefusal(limit: .queue, maximum: limits.queuedJobs) }
            let active = try await count(transaction, tenant: job.tenantId, statuses: [.approved, .executing])
            if active >= limits.activeJobs { throw AdmissionRefusal(limit: .activeJobs, maximum: limits.activeJobs) }
        }
        let stored = try await storedBytes(transaction, tenant: job.tenantId)
        if stored + (job.code?.utf8.count ?? 0) > limits.storedBytes {
            throw AdmissionRefusal(limit: .storedBytes, maximum: limits.storedBytes)
        }
        try await transaction.insert(job, into: "job")
        try await appendAudit(transaction, tenant: job.tenantId, job: job.id, event: "job.created",
                              detail: ["kind": job.kind, "skill": job.skillId ?? "", "code_sha256": job.codeSHA256 ?? "", "status": job.status.rawValue], at: job.createdAt)
        try await transaction.notifyChanged(job: job.id, replica: replica)
    }

    public func storedBytes(tenant: String) async throws -> Int {
        try await read { try await self.storedBytes($0, tenant: tenant) }
    }

    func storedBytes(_ transaction: Statements, tenant: String) async throws -> Int {
        Int(try await transaction.value(Int64.self, """
            SELECT COALESCE(SUM("plainBytes"), 0)::bigint FROM job WHERE "tenantId" = \(tenant)
            """) ?? 0)
    }

    func count(_ transaction: Statements, tenant: String, statuses: [JobStatus]) async throws -> Int {
        Int(try await transaction.value(Int64.self, #"SELECT COUNT(*) FROM job WHERE "tenantId" = \#(tenant) AND status = ANY(\#(statuses.map(\.rawValue)))"#) ?? 0)
    }

    public func queueState() async throws -> [TenantQueueState] {
        try await read { try await self.queueState($0) }
    }

    func queueState(_ transaction: Statements) async throws -> [TenantQueueState] {
        var states: [String: TenantQueueState] = [:]
        let rows = try await transaction.rows((String, String, Int64, Int64?, Int64?).self, """
            SELECT "tenantId", status, COUNT(*), MIN(COALESCE("approvedAt", "createdAt")),
                (SELECT MAX(started."executedAt") FROM job started WHERE started."tenantId" = job."tenantId")
            FROM job WHERE status IN (\(JobStatus.approved.rawValue), \(JobStatus.executing.rawValue)) GROUP BY "tenantId", status
            """)
        for (tenant, status, count, oldest, lastStarted) in rows {
            var state = states[tenant] ?? TenantQueueState(tenantId: tenant, waiting: 0, oldestApprovedAt: nil, running: 0, lastStartedAt: lastStarted)
            if status == JobStatus.approved.rawValue {
                state.waiting = Int(count)
                state.oldestApprovedAt = oldest
            } else {
                state.running = Int(count)
            }
            states[tenant] = state
        }
        return states.values.sorted { $0.tenantId < $1.tenantId }
    }

    /// ``Store/claimNextJob(at:choose:)``, and the claim carries this replica's lease: `FOR UPDATE SKIP
    /// LOCKED` takes the row, and the job becomes `executing` with `leaseOwner` this replica and
    /// `leaseExpiresAt` `now` plus ``lease``.
    public func claimNextJob(at now: Int64, choose: @escaping @Sendable ([TenantQueueState]) -> String?) async throws -> JobRecord? {
        let (value, failed) = try await write { transaction -> (JobRecord?, [IntegrityViolation]) in
            var failed: [IntegrityViolation] = []
            // A queued row that does not verify ends `failed` here and the choice is made again: it never runs.
            while true {
                guard let tenant = choose(try await self.queueState(transaction)) else { return (nil, failed) }
                guard let stored = try await transaction.stored(JobRecord.self, """
                    SELECT row_to_json(j)::text FROM job j WHERE "tenantId" = \(tenant) AND status = \(JobStatus.approved.rawValue)
                    ORDER BY "approvedAt" NULLS FIRST, "createdAt", "id" LIMIT 1 FOR UPDATE SKIP LOCKED
                    """).first else { return (nil, failed) }
                guard var job = try await self.openedOrFailed(transaction, stored.record, mac: stored.mac, at: now, failed: &failed) else { continue }
                job.status = .executing
                job.executedAt = now
                job.updatedAt = now
                try await transaction.update(job, in: "job", where: "id", is: job.id)
                try await transaction.execute(#"UPDATE job SET "leaseOwner" = \#(self.replica), "leaseExpiresAt" = \#(now + self.lease.wholeMilliseconds) WHERE "id" = \#(job.id)"#)
                try await self.appendAudit(transaction, tenant: job.tenantId, job: job.id, event: "job.started", detail: ["status": job.status.rawValue], at: now)
                try await transaction.notifyChanged(job: job.id, replica: self.replica)
                return (job, failed)
            }
        }
        announce(failed)
        return value
    }

    public func purgeExpiredRequests(at now: Int64) async throws -> [String] {
        let (value, failed) = try await write { transaction -> ([String], [IntegrityViolation]) in
            var failed: [IntegrityViolation] = []
            let rows = try await transaction.stored(JobRecord.self, """
                SELECT row_to_json(j)::text FROM job j WHERE status = ANY(\([JobStatus.pending, .pendingScope, .awaitingSecrets].map(\.rawValue)))
                AND "tokenExpiresAt" <= \(now) FOR UPDATE
                """)
            var expired: [String] = []
            for stored in rows {
                guard var job = try await self.openedOrFailed(transaction, stored.record, mac: stored.mac, at: now, failed: &failed) else { continue }
                job.status = .failed
                job.outcome = "expired"
                job.error = "expired: nobody decided before the approval link ran out"
                job.code = nil
                job.completedAt = now
                job.updatedAt = now
                try await transaction.update(job, in: "job", where: "id", is: job.id)
                try await self.appendAudit(transaction, tenant: job.tenantId, job: job.id, event: "job.expired",
                                           detail: ["status": "failed", "purged": "code", "code_sha256": job.codeSHA256 ?? ""], at: now)
                try await transaction.notifyChanged(job: job.id, replica: self.replica)
                expired.append(job.id)
            }
            return (expired, failed)
        }
        announce(failed)
        return value
    }

    public func trimFinishedJobs(endedBefore cutoff: Int64, at now: Int64) async throws -> Int {
        let (value, failed) = try await write { transaction -> (Int, [IntegrityViolation]) in
            var failed: [IntegrityViolation] = []
            let old = try await transaction.stored(JobRecord.self, """
                SELECT row_to_json(j)::text FROM job j WHERE status = ANY(\([JobStatus.completed, .failed, .denied].map(\.rawValue))) AND "completedAt" < \(cutoff)
                AND ("code" IS NOT NULL OR "resultJSON" IS NOT NULL) ORDER BY "id" FOR UPDATE
                """)
            for stored in old {
                guard var job = try await self.openedOrFailed(transaction, stored.record, mac: stored.mac, at: now, failed: &failed) else { continue }
                job.code = nil
                job.resultJSON = nil
                job.updatedAt = now
                try await transaction.update(job, in: "job", where: "id", is: job.id)
                try await self.appendAudit(transaction, tenant: job.tenantId, job: job.id, event: "job.trimmed", detail: ["purged": "code,result"], at: now)
            }
            return (old.count, failed)
        }
        announce(failed)
        return value
    }

    /// Jobs whose lease ran out before `now` (their replica stopped renewing it: it died, or restarted as a
    /// new replica) become `failed` (`interrupted`), each once: the row is locked and re-checked, so two
    /// replicas noticing together record it once. Never re-run: jobs are not idempotent.
    /// - Returns: the ids interrupted.
    public func interruptExpiredLeases(at now: Int64) async throws -> [String] {
        let (value, failed) = try await write { transaction -> ([String], [IntegrityViolation]) in
            var failed: [IntegrityViolation] = []
            let lapsed = try await transaction.stored(JobRecord.self, """
                SELECT row_to_json(j)::text FROM job j WHERE status = \(JobStatus.executing.rawValue)
                AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" <= \(now)) ORDER BY "id" FOR UPDATE
                """)
            var interrupted: [String] = []
            for stored in lapsed {
                guard var job = try await self.openedOrFailed(transaction, stored.record, mac: stored.mac, at: now, failed: &failed) else { continue }
                job.status = .failed
                job.error = "interrupted: the enclave replica running the job stopped (its lease expired)"
                job.outcome = "interrupted"
                job.completedAt = now
                job.updatedAt = now
                try await transaction.update(job, in: "job", where: "id", is: job.id)
                try await self.appendAudit(transaction, tenant: job.tenantId, job: job.id, event: "job.interrupted", detail: ["status": "failed"], at: now)
                try await transaction.notifyChanged(job: job.id, replica: self.replica)
                interrupted.append(job.id)
            }
            return (interrupted, failed)
        }
        announce(failed)
        return value
    }
}

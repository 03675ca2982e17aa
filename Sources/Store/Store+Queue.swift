import Foundation
import GRDB

/// Limits checked when a job is admitted, in the same transaction as its insert, so that concurrent
/// requests can never pass a check together and then overshoot it.
public struct AdmissionLimits: Sendable, Hashable {
    /// Approved jobs waiting for a worker, over all tenants.
    public var queuedJobs: Int
    /// Requests of one tenant waiting for a person (`pending`, `pending_scope`, `awaiting_secrets`).
    public var pendingRequests: Int
    /// Jobs of one tenant approved and waiting, or running.
    public var activeJobs: Int
    /// Bytes of code and results one tenant keeps stored.
    public var storedBytes: Int

    public init(queuedJobs: Int, pendingRequests: Int, activeJobs: Int, storedBytes: Int) {
        self.queuedJobs = queuedJobs
        self.pendingRequests = pendingRequests
        self.activeJobs = activeJobs
        self.storedBytes = storedBytes
    }
}

/// Why a job was not admitted. Nothing was stored.
public struct AdmissionRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// The limit that refused: `queue` (the shared queue) or a per-tenant quota's name.
    public enum Limit: String, Sendable, CaseIterable {
        case queue, pendingRequests = "pending_requests", activeJobs = "active_jobs", storedBytes = "stored_bytes"
    }
    public let limit: Limit
    /// The limit's value.
    public let maximum: Int
    public var description: String { "\(limit.rawValue) limit (\(maximum)) reached" }
}

/// What the queue holds for one tenant, as a scheduler sees it when it picks the next job.
public struct TenantQueueState: Sendable, Hashable {
    public var tenantId: String
    /// Approved jobs waiting.
    public var waiting: Int
    /// When its oldest waiting job was approved (ms).
    public var oldestApprovedAt: Int64?
    /// Jobs running now.
    public var running: Int
    /// When one of its jobs last started (ms), `nil` if never.
    public var lastStartedAt: Int64?

    public init(tenantId: String, waiting: Int, oldestApprovedAt: Int64?, running: Int, lastStartedAt: Int64?) {
        self.tenantId = tenantId
        self.waiting = waiting
        self.oldestApprovedAt = oldestApprovedAt
        self.running = running
        self.lastStartedAt = lastStartedAt
    }
}

extension Store {
    /// Stores a new job if every limit allows it, in one transaction (the database is the queue: a job
    /// inserted `approved` is queued by that insert).
    /// - Throws: ``AdmissionRefusal`` naming the limit; nothing is stored then.
    public func admit(_ job: JobRecord, limits: AdmissionLimits) async throws {
        try await writer.write { [self] db in try admit(db, job, limits: limits) }
    }

    func admit(_ db: Database, _ job: JobRecord, limits: AdmissionLimits) throws {
        if job.status.awaitsHuman {
            let pending = try Self.count(db, tenant: job.tenantId, statuses: [.pending, .pendingScope, .awaitingSecrets])
            if pending >= limits.pendingRequests { throw AdmissionRefusal(limit: .pendingRequests, maximum: limits.pendingRequests) }
        }
        if job.status == .approved {
            let queued = try JobRecord.filter(Column("status") == JobStatus.approved.rawValue).fetchCount(db)
            if queued >= limits.queuedJobs { throw AdmissionRefusal(limit: .queue, maximum: limits.queuedJobs) }
            let active = try Self.count(db, tenant: job.tenantId, statuses: [.approved, .executing])
            if active >= limits.activeJobs { throw AdmissionRefusal(limit: .activeJobs, maximum: limits.activeJobs) }
        }
        let stored = try Self.storedBytes(db, tenant: job.tenantId)
        if stored + (job.code?.utf8.count ?? 0) > limits.storedBytes {
            throw AdmissionRefusal(limit: .storedBytes, maximum: limits.storedBytes)
        }
        try insert(db, job)
        try Self.appendAudit(db, tenant: job.tenantId, job: job.id, event: "job.created",
                             detail: ["kind": job.kind, "skill": job.skillId ?? "", "code_sha256": job.codeSHA256 ?? "", "status": job.status.rawValue], at: job.createdAt)
    }

    /// Bytes of code and results the tenant keeps.
    public func storedBytes(tenant: String) async throws -> Int {
        try await writer.read { db in try Self.storedBytes(db, tenant: tenant) }
    }

    static func storedBytes(_ db: Database, tenant: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(plainBytes), 0) FROM job WHERE tenantId = ?", arguments: [tenant]) ?? 0
    }

    static func count(_ db: Database, tenant: String, statuses: [JobStatus]) throws -> Int {
        try JobRecord.filter(Column("tenantId") == tenant && statuses.map(\.rawValue).contains(Column("status"))).fetchCount(db)
    }

    /// The queue per tenant: every tenant with a job waiting or running.
    public func queueState() async throws -> [TenantQueueState] {
        try await writer.read { db in try Self.queueState(db) }
    }

    static func queueState(_ db: Database) throws -> [TenantQueueState] {
        var states: [String: TenantQueueState] = [:]
        let rows = try Row.fetchAll(db, sql: """
            SELECT tenantId, status, COUNT(*) AS n, MIN(COALESCE(approvedAt, createdAt)) AS oldest FROM job
            WHERE status IN (?, ?) GROUP BY tenantId, status
            """, arguments: [JobStatus.approved.rawValue, JobStatus.executing.rawValue])
        for row in rows {
            let tenant: String = row["tenantId"]
            var state = states[tenant] ?? TenantQueueState(tenantId: tenant, waiting: 0, oldestApprovedAt: nil, running: 0, lastStartedAt: nil)
            if row["status"] as String == JobStatus.approved.rawValue {
                state.waiting = row["n"]
                state.oldestApprovedAt = row["oldest"]
            } else {
                state.running = row["n"]
            }
            states[tenant] = state
        }
        for tenant in states.keys {
            states[tenant]?.lastStartedAt = try Int64.fetchOne(db, sql: "SELECT MAX(executedAt) FROM job WHERE tenantId = ?", arguments: [tenant])
        }
        return states.values.sorted { $0.tenantId < $1.tenantId }
    }

    /// Takes the next job to run, atomically: `choose` sees the queue per tenant and names the tenant to
    /// serve (or none); that tenant's oldest approved job becomes `executing` in the same transaction, so
    /// two workers never take one job and a choice is never made on a stale picture.
    /// - Returns: the job, now `executing`, or `nil` when `choose` named nobody.
    public func claimNextJob(at now: Int64, choose: @escaping @Sendable ([TenantQueueState]) -> String?) async throws -> JobRecord? {
        let (value, failed) = try await writer.write { [self] db -> (JobRecord?, [IntegrityViolation]) in
            var failed: [IntegrityViolation] = []
            // A queued row that does not verify ends `failed` here and the choice is made again: it never runs.
            while true {
                guard let tenant = choose(try Self.queueState(db)) else { return (nil, failed) }
                guard let row = try GRDB.Row.fetchOne(db, JobRecord
                    .filter(Column("tenantId") == tenant && Column("status") == JobStatus.approved.rawValue)
                    .order(Column("approvedAt"), Column("createdAt"), Column("id")))
                else { return (nil, failed) }
                guard var job = try openedOrFailed(db, row, at: now, failed: &failed) else { continue }
                job.status = .executing
                job.executedAt = now
                job.updatedAt = now
                try update(db, job)
                try Self.appendAudit(db, tenant: job.tenantId, job: job.id, event: "job.started", detail: ["status": job.status.rawValue], at: now)
                return (job, failed)
            }
        }
        announce(failed)
        return value
    }

    /// Ends every request still waiting for a person whose approval link expired before `now`: it becomes
    /// `failed` (`expired`), its code is dropped (its hash stays), and the audit log records the purge.
    /// - Returns: the ids purged.
    public func purgeExpiredRequests(at now: Int64) async throws -> [String] {
        let (value, failed) = try await writer.write { [self] db -> ([String], [IntegrityViolation]) in
            var failed: [IntegrityViolation] = []
            let rows = try GRDB.Row.fetchAll(db, JobRecord
                .filter([JobStatus.pending, .pendingScope, .awaitingSecrets].map(\.rawValue).contains(Column("status")) && Column("tokenExpiresAt") <= now))
            var expired: [JobRecord] = []
            for row in rows {
                guard var job = try openedOrFailed(db, row, at: now, failed: &failed) else { continue }
                job.status = .failed
                job.outcome = "expired"
                job.error = "expired: nobody decided before the approval link ran out"
                job.code = nil
                job.completedAt = now
                job.updatedAt = now
                try update(db, job)
                try Self.appendAudit(db, tenant: job.tenantId, job: job.id, event: "job.expired",
                                     detail: ["status": "failed", "purged": "code", "code_sha256": job.codeSHA256 ?? ""], at: now)
                expired.append(job)
            }
            return (expired.map(\.id), failed)
        }
        announce(failed)
        return value
    }

    /// Drops the code and result of final jobs that ended before `cutoff` (the row, its status, code hash
    /// and outcome stay for `GET /history`), so a tenant's stored bytes fall as results age out.
    /// - Returns: how many jobs were trimmed.
    public func trimFinishedJobs(endedBefore cutoff: Int64, at now: Int64) async throws -> Int {
        let (value, failed) = try await writer.write { [self] db -> (Int, [IntegrityViolation]) in
            var failed: [IntegrityViolation] = []
            let old = try GRDB.Row.fetchAll(db, JobRecord
                .filter([JobStatus.completed, .failed, .denied].map(\.rawValue).contains(Column("status")) && Column("completedAt") < cutoff
                        && (Column("code") != nil || Column("resultJSON") != nil)))
            for row in old {
                guard var job = try openedOrFailed(db, row, at: now, failed: &failed) else { continue }
                job.code = nil
                job.resultJSON = nil
                job.updatedAt = now
                try update(db, job)
                try Self.appendAudit(db, tenant: job.tenantId, job: job.id, event: "job.trimmed", detail: ["purged": "code,result"], at: now)
            }
            return (old.count, failed)
        }
        announce(failed)
        return value
    }
}

import Foundation
import Logging
import OAuth3Wire
import Sandbox
import SkillManifest
import Store
import Vault

extension JobService {
    /// A job's status for its tenant. With `wait`, holds the request until the job changes (or for
    /// `timeout`), unless it is already final; the reply is always the job as it is now.
    func status(id: String, caller: Caller, wait: Bool, timeout: Duration) async throws -> ExecutionStatus {
        let version = await events.version(of: id)
        guard var job = try await store.job(id: id, tenant: caller.tenantId) else { throw GatewayError.notFound("request \(id)") }
        // `awaiting_secrets` ends an SDK's polling, so it is answered at once like a final status.
        if wait && !job.status.isFinal && job.status != .awaitingSecrets {
            let limit = configuration.quotas.longPolls
            guard await events.wait(for: id, tenant: caller.tenantId, limit: limit, after: version, timeout: timeout) else {
                metrics.refused(by: "long_polls")
                throw GatewayError.tooManyRequests(
                    "quota long_polls: this tenant already holds \(limit) status requests open with wait=true; poll without wait, or wait for one to return",
                    quota: "long_polls", retryAfter: 1)
            }
            job = try await store.job(id: id, tenant: caller.tenantId) ?? job
        }
        return try await statusReply(job, caller: caller)
    }

    func statusReply(_ job: JobRecord, caller: Caller) async throws -> ExecutionStatus {
        var status = ExecutionStatus(requestId: job.id, status: job.status.rawValue)
        status.skillId = job.skillId
        status.codeSha256 = job.codeSHA256
        status.sessionId = job.sessionId
        status.createdAt = job.createdAt
        status.approvedAt = job.approvedAt
        status.executedAt = job.executedAt
        status.completedAt = job.completedAt
        status.approvedBy = job.approvedBy
        status.error = job.error
        status.statusUrl = statusURL(job: job.id)
        status.result = try job.attestedResult()
        if job.status.awaitsHuman { try await addNextStep(to: &status, job: job, caller: caller) }
        return status
    }

    /// What the agent needs while a person must act (`pending`, `pending_scope`, `awaiting_secrets`): the
    /// approval link again (the agent had it from `POST /execute`; an SDK that polls shows it), the
    /// secrets that have no value yet, and, for a job in a session, why the session did not approve it.
    private func addNextStep(to status: inout ExecutionStatus, job: JobRecord, caller: Caller) async throws {
        if clock.now() < job.tokenExpiresAt, approvalTokens.matches(job.tokenHash, job: job.id) {
            status.approvalUrl = approvalURL(job: job.id, token: approvalTokens.token(for: job.id), caller: caller)
        }
        guard job.kind == "execute", let code = job.code, let manifest = try? SkillManifest.parse(code, configuration: manifestConfiguration) else {
            return
        }
        let missing = try await missingSecrets(manifest, tenant: job.tenantId)
        if !missing.isEmpty { status.missingSecrets = missing }
        if job.status == .awaitingSecrets {
            status.message = "Approved, but secrets \(missing.joined(separator: ", ")) have no value yet: supply them at approval_url or with PUT /secrets/:name; the job then starts by itself"
        }
        if job.status == .pending, let sessionId = job.sessionId {
            let verdict = try await approvalDecision(manifest: manifest, codeSHA256: job.codeSHA256 ?? "", sessionId: sessionId, caller: caller)
            if !verdict.violations.isEmpty { status.policyViolations = verdict.violations }
        }
    }

    /// The tenant's past executions, newest first.
    func history(caller: Caller, limit: Int) async throws -> HistoryResponse {
        let jobs = try await store.history(tenant: caller.tenantId, limit: limit)
        return HistoryResponse(history: jobs.map {
            HistoryEntry(requestId: $0.id, skillId: $0.skillId ?? "", codeSha256: $0.codeSHA256 ?? "", status: $0.status.rawValue,
                         approvedBy: $0.approvedBy, outcome: $0.outcome, createdAt: $0.createdAt, completedAt: $0.completedAt)
        })
    }
}

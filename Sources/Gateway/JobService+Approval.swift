import Foundation
import Logging
import OAuth3Wire
import Sandbox
import SkillManifest
import Store
import Vault

extension JobService {
    /// The job an approval token opens. The token proves nothing about any other job, and expires.
    func jobForApproval(id: String, token: String?) async throws -> JobRecord {
        guard let job = try await store.job(id: id) else { throw GatewayError.notFound("approval request \(id)") }
        guard let token, !token.isEmpty else { throw GatewayError.forbidden("missing approval token (?token=…)") }
        guard Identifiers.equalDigests(Identifiers.sha256(token), job.tokenHash) else {
            throw GatewayError.forbidden("invalid approval token for \(id)")
        }
        guard clock.now() < job.tokenExpiresAt || !job.status.awaitsHuman else {
            throw GatewayError.forbidden("the approval link for \(id) has expired; ask the agent to submit again")
        }
        return job
    }

    /// What the approver is asked to allow.
    func approvalRequest(for job: JobRecord) async throws -> ApprovalRequest {
        if job.kind == "scope" { return try await scopeApprovalRequest(for: job) }
        let manifest = try SkillManifest.parse(job.code ?? "", configuration: manifestConfiguration)
        return ApprovalRequest(
            id: job.id, status: job.status.rawValue, kind: "execute", skillId: job.skillId, description: manifest.description,
            code: job.code, codeSha256: job.codeSHA256, networks: manifest.network.map(\.description),
            secrets: manifest.secrets.map(\.rawValue), missingSecrets: try await missingSecrets(manifest, tenant: job.tenantId),
            constraints: nil, sessionId: job.sessionId, timeoutSeconds: runner.timeoutSeconds(for: .init(source: [], manifest: manifest, secrets: [:])),
            createdAt: job.createdAt)
    }

    /// Records a human's decision. The token allows exactly this: approve or deny this one job while it
    /// waits, store values for the secrets this job declares, and trust this job's code for its tenant.
    func decide(_ decision: ApprovalDecision, job id: String) async throws -> ApprovalOutcome {
        let job = try await jobForApproval(id: id, token: decision.token)
        guard job.status.awaitsHuman else {
            return ApprovalOutcome(id: id, status: job.status.rawValue, message: "Already processed")
        }
        guard ["approve", "deny"].contains(decision.action) else {
            throw GatewayError.badRequest("action must be 'approve' or 'deny', not '\(decision.action)'")
        }
        let level = decision.level ?? "once"
        guard ["once", "trust_code"].contains(level) else {
            throw GatewayError.badRequest("level must be 'once' or 'trust_code', not '\(level)'")
        }
        let now = clock.now()
        if decision.action == "deny" {
            let denied = try await store.transition(id, from: [.pending, .pendingScope, .awaitingSecrets], at: now, event: "job.denied") {
                $0.status = .denied
                $0.completedAt = now
                $0.error = "denied by the approver"
            }
            await changed(denied)
            return ApprovalOutcome(id: id, status: (denied?.status ?? job.status).rawValue)
        }
        if job.kind == "scope" { return try await approveScope(job, decision: decision) }

        let manifest = try SkillManifest.parse(job.code ?? "", configuration: manifestConfiguration)
        try await storeSupplied(decision.secrets, declared: manifest.secrets.map(\.rawValue), tenant: job.tenantId)
        if level == "trust_code", let hash = job.codeSHA256 {
            try await store.trust(codeSHA256: hash, tenant: job.tenantId, at: now)
        }
        let missing = try await missingSecrets(manifest, tenant: job.tenantId)
        let approvedBy = job.approvedBy ?? "human"
        let detail = job.approvalDetail ?? level
        if !missing.isEmpty {
            let waiting = try await store.transition(id, from: [.pending, .awaitingSecrets], at: now, event: "job.awaiting_secrets", detail: ["missing": missing.joined(separator: ",")]) {
                $0.status = .awaitingSecrets
                $0.approvedBy = approvedBy
                $0.approvalDetail = detail
            }
            await changed(waiting)
            return ApprovalOutcome(id: id, status: JobStatus.awaitingSecrets.rawValue, message: "Approved; waiting for secrets \(missing.joined(separator: ", "))", missingSecrets: missing)
        }
        // A person's approval is never refused for load: the job joins the queue (the database) and starts
        // when a worker is free. What bounds these is the tenant's pending-requests quota.
        let approved = try await store.transition(id, from: [.pending, .awaitingSecrets], at: now, event: "job.approved", detail: ["by": approvedBy, "level": level]) {
            $0.status = .approved
            $0.approvedBy = approvedBy
            $0.approvalDetail = detail
            $0.approvedAt = now
        }
        guard let approved else { return ApprovalOutcome(id: id, status: job.status.rawValue, message: "Already processed") }
        await scheduler.wake()
        await changed(approved)
        return ApprovalOutcome(id: id, status: approved.status.rawValue, message: level == "trust_code" ? "Approved; this code now runs without asking" : "Approved")
    }

    /// Seals and stores values the approver typed, refusing names the job does not declare.
    func storeSupplied(_ secrets: [String: String]?, declared: [String], tenant: String) async throws {
        for (name, value) in (secrets ?? [:]).sorted(by: { $0.key < $1.key }) where !value.isEmpty {
            guard declared.contains(name) else {
                throw GatewayError.badRequest("secret \(name) is not declared by this request; only \(declared.joined(separator: ", ")) can be supplied here")
            }
            try await putSecret(name: name, value: value, tenant: tenant)
        }
    }
}

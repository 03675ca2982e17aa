import Attestation
import Consent
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

    /// The request as the page shows it: with the account asking, the arguments, the enclave's
    /// identity, and whether a passkey must decide.
    func approvalView(for job: JobRecord) async throws -> ApprovalRequest {
        var request = try await approvalRequest(for: job)
        let tenant = try await store.tenant(id: job.tenantId)
        request.tenantId = job.tenantId
        request.accountName = tenant?.name
        request.args = try JSONDecoder().decode([String: String].self, from: Data((job.argsJSON ?? "{}").utf8))
        request.enclave = EnclaveIdentity(
            appId: attestor.info.appID, composeHash: attestor.info.composeHash, development: attestor.agent.name.hasPrefix("development"))
        request.passkeyRequired = try await store.hasApprovers(tenant: job.tenantId)
        request.secretBindings = try await secretBindings(request.secrets, tenant: job.tenantId)
        return request
    }

    /// Records a decision. For an account with approvers only a passkey decides: the decision must carry
    /// an approver's assertion over exactly this decision (``verifiedConsent(_:tenant:subject:expected:)``).
    /// For an account without, the token decides as in enclave 0.1.x, and the record says `token`:
    /// approve or deny this one job while it waits, store values for the secrets it declares, trust its code.
    func decide(_ decision: ApprovalDecision, job id: String) async throws -> ApprovalOutcome {
        let job = try await jobForApproval(id: id, token: decision.token)
        guard job.status.awaitsHuman else {
            return ApprovalOutcome(id: id, status: job.status.rawValue, message: "Already processed")
        }
        let (action, level) = try checkedDecision(action: decision.action, level: decision.level)
        var consent: PasskeyConsent?
        if try await store.hasApprovers(tenant: job.tenantId) {
            // The passkey's statement names the supplied secrets but not hosts: a binding it did not sign is refused,
            // rather than left for a relay to add or strip.
            guard decision.secretHosts == nil else {
                throw GatewayError.badRequest("secret_hosts cannot be part of a passkey decision yet: the passkey does not sign them")
            }
            let supplied = (decision.secrets ?? [:]).filter { !$0.value.isEmpty }.keys.sorted()
            consent = try await verifiedConsent(decision.passkey, tenant: job.tenantId, subject: job.id) { nonce, issuedAt in
                try await decisionStatement(job: job, action: action, level: level, supplied: supplied, options: decision.options, nonce: nonce, issuedAt: issuedAt)
            }
        }
        let now = clock.now()
        if action == "deny" {
            let denied = try await store.transition(id, from: [.pending, .pendingScope, .awaitingSecrets], at: now, event: "job.denied", detail: ["by": consent?.credentialId ?? "token"]) {
                $0.status = .denied
                $0.completedAt = now
                $0.error = "denied by the approver"
            }
            await changed(denied)
            return ApprovalOutcome(id: id, status: (denied?.status ?? job.status).rawValue)
        }
        if job.kind == "scope" { return try await approveScope(job, decision: decision, consent: consent) }

        let manifest = try SkillManifest.parse(job.code ?? "", configuration: manifestConfiguration)
        try await storeSupplied(
            decision.secrets, hosts: decision.secretHosts, declared: manifest.secrets.map(\.rawValue), network: manifest.network, tenant: job.tenantId)
        if level == "trust_code", let hash = job.codeSHA256 {
            try await store.trust(
                codeSHA256: hash, tenant: job.tenantId, at: now, consentJSON: try consent.map { try JSONBody.string($0) },
                expiresAt: consent?.statement.expiresAt ?? decision.options?.expiresInMinutes.map { now + Int64($0) * 60_000 },
                maxRuns: consent?.statement.maxRuns ?? decision.options?.maxRuns)
        }
        let missing = try await missingSecrets(manifest, tenant: job.tenantId)
        // A passkey decision is a person's ("human"); a token decision is only the link-holder's ("token").
        let approvedBy = job.approvedBy ?? (consent == nil ? "token" : "human")
        let detail = job.approvalDetail ?? level
        let record = try JSONBody.string(ApprovalRecord(method: consent == nil ? .token : .passkey, at: now, passkey: consent))
        if !missing.isEmpty {
            let waiting = try await store.transition(id, from: [.pending, .awaitingSecrets], at: now, event: "job.awaiting_secrets", detail: ["missing": missing.joined(separator: ",")]) {
                $0.status = .awaitingSecrets
                $0.approvedBy = approvedBy
                $0.approvalDetail = detail
                $0.consentJSON = record
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
            $0.consentJSON = record
        }
        guard let approved else { return ApprovalOutcome(id: id, status: job.status.rawValue, message: "Already processed") }
        await scheduler.wake()
        await changed(approved)
        return ApprovalOutcome(id: id, status: approved.status.rawValue, message: level == "trust_code" ? "Approved; this code now runs without asking" : "Approved")
    }

    /// Seals and stores values the approver typed (bound to the hosts typed beside them, if any), refusing
    /// names the job does not declare.
    func storeSupplied(
        _ secrets: [String: String]?, hosts: [String: [String]]? = nil, declared: [String], network: [HostPattern]? = nil, tenant: String
    ) async throws {
        // Everything is checked before anything is stored, so a refused decision leaves no secret half-written.
        var checked: [(name: String, value: String, binding: ValidatedBinding?)] = []
        for (name, value) in (secrets ?? [:]).sorted(by: { $0.key < $1.key }) where !value.isEmpty {
            guard declared.contains(name) else {
                throw GatewayError.badRequest("secret \(name) is not declared by this request; only \(declared.joined(separator: ", ")) can be supplied here")
            }
            let binding: ValidatedBinding?
            do { binding = try ValidatedBinding.validate(hosts: hosts?[name], placement: nil) } catch let error as GatewayError {
                throw GatewayError.badRequest("secret_hosts[\(name)]: \(error.body.error)")
            }
            // As at submit: a binding none of the job's hosts is covered by could reach nothing.
            if let binding, let network, !binding.coversAny(of: network) {
                throw GatewayError.badRequest(
                    "secret_hosts[\(name)]: bound to \(binding.hosts.map(\.description).joined(separator: ", ")), but this skill's @network declares none of them")
            }
            checked.append((name, value, binding))
        }
        for secret in checked { try await putSecret(name: secret.name, value: secret.value, tenant: tenant, binding: secret.binding) }
    }

    /// The bindings of the declared secrets that are stored bound, for the approval page.
    func secretBindings(_ names: [String], tenant: String) async throws -> [String: SecretBinding]? {
        let stored = try await store.sealedSecrets(tenant: tenant, names: names)
        var bindings: [String: SecretBinding] = [:]
        for (name, secret) in stored { if let binding = secret.binding { bindings[name] = try ValidatedBinding.stored(binding).wire } }
        return bindings.isEmpty ? nil : bindings
    }
}

import Foundation
import Logging
import OAuth3Wire
import Sandbox
import SkillManifest
import Store
import Vault

/// What a scope request stores: the policy asked for, and the session it is for.
struct ScopeDocument: Codable, Sendable {
    var sessionId: String
    var requested: SessionPolicy
    /// The session's policy if the scope is approved (the existing policy plus the request).
    var resulting: SessionPolicy
    var codeSHA256: String?
}

extension JobService {
    static let maxConstraints = 32, maxConstraintLength = 500, maxDescriptionLength = 1000

    /// Validates a scope request exactly like skill headers, and asks a human. Asking again for an existing
    /// session can only add to its policy; a request that adds nothing completes at once.
    func submitScope(_ request: ScopeRequest, caller: Caller) async throws -> ExecutionStatus {
        let description = request.description.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...Self.maxDescriptionLength).contains(description.count) else {
            throw GatewayError.badRequest("description must be 1–\(Self.maxDescriptionLength) characters")
        }
        let constraints = request.constraints ?? []
        guard constraints.count <= Self.maxConstraints, constraints.allSatisfy({ $0.count <= Self.maxConstraintLength }) else {
            throw GatewayError.badRequest("constraints: at most \(Self.maxConstraints), each at most \(Self.maxConstraintLength) characters")
        }
        var secrets: [String] = []
        for (index, name) in (request.secrets ?? []).enumerated() {
            switch SecretName.validate(name) {
            case .failure(let error): throw GatewayError.badRequest("secrets[\(index)] '\(name)': \(error.message)")
            case .success(let valid) where !secrets.contains(valid.rawValue): secrets.append(valid.rawValue)
            case .success: break
            }
        }
        var networks: [String] = []
        for (index, host) in (request.networks ?? []).enumerated() {
            switch HostPattern.validate(host) {
            case .failure(let error): throw GatewayError.badRequest("networks[\(index)]: \(error.message)")
            case .success(let valid) where !networks.contains(valid.description): networks.append(valid.description)
            case .success: break
            }
        }
        guard secrets.count <= manifestConfiguration.maxSecrets, networks.count <= manifestConfiguration.maxHosts else {
            throw GatewayError.badRequest("a scope may name at most \(manifestConfiguration.maxSecrets) secrets and \(manifestConfiguration.maxHosts) hosts")
        }
        var codeSHA256: String?
        if let code = request.skillCode, !code.isEmpty {
            _ = try validateCode(ExecuteRequest(skillCode: code))
            codeSHA256 = Identifiers.sha256Hex(Array(code.utf8))
        }
        let requested = SessionPolicy(description: description, constraints: constraints, secrets: secrets, networks: networks, codeHashes: codeSHA256.map { [$0] } ?? [])

        let sessionId: String
        var existingPolicy: SessionPolicy?
        if let wanted = request.sessionId {
            guard OrchestratorClaims.isValidTenantId(wanted) else {
                throw GatewayError.badRequest("session_id must be 1–64 letters, digits, '_' or '-'")
            }
            if let session = try await store.session(id: wanted, tenant: caller.tenantId) {
                if let inactive = sessionInactivity(session, at: clock.now()) {
                    throw GatewayError.conflict("session \(wanted) is \(inactive); ask for a new scope without session_id")
                }
                existingPolicy = try JSONDecoder().decode(SessionPolicy.self, from: Data(session.policyJSON.utf8))
            } else if try await store.sessionExists(id: wanted) {
                throw GatewayError.conflict("session_id \(wanted) is taken; choose another, or omit session_id for a new one")
            }
            sessionId = wanted
        } else {
            sessionId = Identifiers.make("session_")
        }
        let resulting = existingPolicy.map { $0.adding(requested) } ?? requested
        let addsNothing = existingPolicy.map {
            Set($0.secrets).isSuperset(of: secrets) && Set($0.networks).isSuperset(of: networks) && codeSHA256.map($0.approves(codeSHA256:)) ?? true
        } ?? false

        let now = clock.now()
        let id = Identifiers.make("scope_")
        let token = approvalTokens.token(for: id)
        let document = ScopeDocument(sessionId: sessionId, requested: requested, resulting: resulting, codeSHA256: codeSHA256)
        var job = JobRecord(
            id: id, tenantId: caller.tenantId, kind: "scope", skillId: nil, code: request.skillCode,
            codeSHA256: codeSHA256, argsJSON: nil, scopeJSON: try JSONBody.string(document), sessionId: sessionId,
            status: .pendingScope, tokenHash: Identifiers.sha256(token),
            tokenExpiresAt: now + Int64(configuration.approvalTokenLifetimeSeconds) * 1000, createdAt: now)
        if addsNothing {
            job.status = .completed
            job.approvedBy = "session_policy"
            job.approvalDetail = sessionId
            job.completedAt = now
        }
        if existingPolicy == nil {
            // A new session id is reserved with the request, atomically: of two tenants racing for one id,
            // the second is told so now instead of holding a request that could never be approved.
            let admitted: Bool
            do {
                admitted = try await store.admitScope(job, reservingSession: sessionId, limits: configuration.admissionLimits)
            } catch let refusal as AdmissionRefusal {
                throw refused(refusal)
            }
            guard admitted else {
                throw GatewayError.conflict("session_id \(sessionId) is taken; choose another, or omit session_id for a new one")
            }
        } else {
            try await admit(job)
        }
        var status = ExecutionStatus(requestId: job.id, status: job.status.rawValue)
        status.sessionId = sessionId
        status.statusUrl = statusURL(job: job.id)
        status.createdAt = now
        if addsNothing {
            status.message = "The session's policy already covers this scope"
        } else {
            status.approvalUrl = approvalURL(job: job.id, token: token, caller: caller)
            status.message = existingPolicy == nil ? "Waiting for a human to approve the scope" : "Waiting for a human to approve the additions to session \(sessionId)"
        }
        return status
    }

    func scopeDocument(_ job: JobRecord) throws -> ScopeDocument {
        try JSONDecoder().decode(ScopeDocument.self, from: Data((job.scopeJSON ?? "{}").utf8))
    }

    func scopeApprovalRequest(for job: JobRecord) async throws -> ApprovalRequest {
        let document = try scopeDocument(job)
        let stored = Set(try await store.secrets(tenant: job.tenantId).map(\.name))
        return ApprovalRequest(
            id: job.id, status: job.status.rawValue, kind: "scope", skillId: nil, description: document.requested.description,
            code: job.code, codeSha256: job.codeSHA256, networks: document.resulting.networks, secrets: document.resulting.secrets,
            missingSecrets: document.resulting.secrets.filter { !stored.contains($0) }, constraints: document.resulting.constraints,
            sessionId: document.sessionId, timeoutSeconds: nil, createdAt: job.createdAt)
    }

    /// Approving a scope creates (or extends) the session's policy; the scope request then reads `completed`.
    /// The approver may widen it to any code within its hosts and secrets, and limit its life and runs;
    /// with a passkey, its consent is kept with the session for the results it approves.
    func approveScope(_ job: JobRecord, decision: ApprovalDecision, consent: PasskeyConsent?) async throws -> ApprovalOutcome {
        let document = try scopeDocument(job)
        try await storeSupplied(decision.secrets, hosts: decision.secretHosts, declared: document.resulting.secrets, tenant: job.tenantId)
        let now = clock.now()
        var policy = document.resulting
        if (consent?.statement.anyCode ?? decision.options?.anyCode) == true { policy.anyCode = true }
        try await store.saveSession(id: document.sessionId, tenant: job.tenantId, policyJSON: try JSONBody.string(policy), at: now)
        let options = decision.options
        let expiresAt = consent?.statement.expiresAt ?? options?.expiresInMinutes.map { now + Int64($0) * 60_000 }
        let maxRuns = consent?.statement.maxRuns ?? options?.maxRuns
        if expiresAt != nil || maxRuns != nil { try await store.limitSession(id: document.sessionId, expiresAt: expiresAt, maxRuns: maxRuns) }
        if let consent, let session = try await store.session(id: document.sessionId, tenant: job.tenantId) {
            let earlier = try session.consentJSON.map { try JSONDecoder().decode([PasskeyConsent].self, from: Data($0.utf8)) } ?? []
            try await store.setSessionConsent(id: document.sessionId, consentJSON: try JSONBody.string(earlier + [consent]))
        }
        let done = try await store.transition(job.id, from: [.pendingScope], at: now, event: "scope.approved", detail: ["session": document.sessionId]) {
            $0.status = .completed
            $0.approvedBy = consent == nil ? "token" : "human"
            $0.approvalDetail = document.sessionId
            $0.approvedAt = now
            $0.completedAt = now
        }
        await changed(done)
        return ApprovalOutcome(id: job.id, status: (done?.status ?? job.status).rawValue, sessionId: document.sessionId)
    }

    /// The tenant's sessions, as `GET /sessions` shows them.
    func sessions(caller: Caller) async throws -> SessionList {
        SessionList(sessions: try await store.sessions(tenant: caller.tenantId).map(sessionInfo))
    }

    func session(id: String, caller: Caller) async throws -> SessionInfo {
        guard let session = try await store.session(id: id, tenant: caller.tenantId) else { throw GatewayError.notFound("session \(id)") }
        return try sessionInfo(session)
    }

    func sessionInfo(_ session: SessionRecord) throws -> SessionInfo {
        let policy = try JSONDecoder().decode(SessionPolicy.self, from: Data(session.policyJSON.utf8))
        let now = clock.now()
        let status = session.revokedAt != nil ? "revoked" : (sessionInactivity(session, at: now) == nil ? "active" : "expired")
        var info = SessionInfo(
            sessionId: session.id, status: status, createdAt: session.createdAt, lastActivity: session.lastActivity,
            ageMinutes: Int((now - session.createdAt) / 60_000), idleMinutes: Int((now - session.lastActivity) / 60_000), runs: session.runs,
            policy: SessionPolicyView(
                description: policy.description, constraints: policy.constraints, allowedSecrets: policy.secrets, allowedNetworks: policy.networks,
                approvedCode: policy.codeHashes ?? [], anyCode: policy.anyCode == true))
        info.expiresAt = session.expiresAt
        info.maxRuns = session.maxRuns
        return info
    }
}

import Foundation
import Logging
import OAuth3Wire
import Sandbox
import SkillManifest
import Store
import Vault

/// The deterministic answer to "may this run without a human?", with its reasons.
struct ApprovalVerdict: Sendable {
    /// `trusted_code` or `session_policy` when it may; `nil` when a human must decide.
    var approvedBy: String?
    /// The consent record for the result: the trust or the session, with the passkey decision behind it.
    var record: ApprovalRecord?
    /// The session id, for `session_policy`.
    var detail: String?
    /// `trusted_code`, `session_policy`, `policy_violation` or `needs_approval`.
    var reason: String
    /// Each gap, in words.
    var violations: [String] = []
    var newSecrets: [String] = []
    var newNetworks: [String] = []
}

extension JobService {
    /// Decides auto-approval, in order: code this tenant trusts; then, with a `session_id`, an active
    /// session of this tenant whose policy holds every declared secret and covers every declared host.
    /// Anything else waits for a human, and the verdict says why.
    func approvalDecision(manifest: SkillManifest, codeSHA256: String, sessionId: String?, caller: Caller) async throws -> ApprovalVerdict {
        let now = clock.now()
        if let trusted = try await store.trustedCode(codeSHA256: codeSHA256, tenant: caller.tenantId, at: now) {
            let consent = try trusted.consentJSON.map { try JSONDecoder().decode(PasskeyConsent.self, from: Data($0.utf8)) }
            return ApprovalVerdict(approvedBy: "trusted_code", record: ApprovalRecord(method: .trustedCode, at: now, passkey: consent), reason: "trusted_code")
        }
        guard let sessionId else { return ApprovalVerdict(reason: "needs_approval") }
        guard let session = try await store.session(id: sessionId, tenant: caller.tenantId) else {
            return ApprovalVerdict(reason: "needs_approval", violations: ["session \(sessionId) does not exist for this tenant"])
        }
        if let inactive = sessionInactivity(session, at: clock.now()) {
            return ApprovalVerdict(reason: "needs_approval", violations: ["session \(sessionId) is \(inactive)"])
        }
        let policy = try JSONDecoder().decode(SessionPolicy.self, from: Data(session.policyJSON.utf8))
        let gaps = policy.gaps(for: manifest)
        let codeFits = policy.approves(codeSHA256: codeSHA256)
        if gaps.secrets.isEmpty && gaps.networks.isEmpty && codeFits {
            let consents = try session.consentJSON.map { try JSONDecoder().decode([PasskeyConsent].self, from: Data($0.utf8)) } ?? []
            // The scope approval behind this run: one that named this code, or one that allowed any.
            let basis = consents.last { $0.statement.codeSha256 == codeSHA256 } ?? consents.last { $0.statement.anyCode == true }
            let record = ApprovalRecord(method: .session, at: now, passkey: basis, sessionId: sessionId, anyCode: policy.anyCode == true)
            return ApprovalVerdict(approvedBy: "session_policy", record: record, detail: sessionId, reason: "session_policy")
        }
        let violations = (codeFits ? [] : ["code \(codeSHA256) was not approved for session \(sessionId): only the code shown with its scopes (or code trusted later) runs without a human"])
            + gaps.secrets.map { "secret \($0) is not in the session's policy" }
            + gaps.networks.map { "host \($0) is not covered by the session's networks" }
        return ApprovalVerdict(reason: "policy_violation", violations: violations, newSecrets: gaps.secrets, newNetworks: gaps.networks)
    }

    /// Why a session can no longer approve anything, or `nil` when it is active.
    func sessionInactivity(_ session: SessionRecord, at now: Int64) -> String? {
        if session.revokedAt != nil { return "revoked" }
        if now - session.lastActivity > SessionRules.idleLimitMilliseconds { return "expired: idle for more than 2 hours" }
        if let expiresAt = session.expiresAt, now >= expiresAt { return "expired" }
        if let maxRuns = session.maxRuns, session.runs >= maxRuns { return "used up: \(maxRuns) runs" }
        return nil
    }

    /// Counts a run approved by a session, and keeps the session alive.
    func noteSessionUse(_ job: JobRecord) async throws {
        if job.approvedBy == "trusted_code", let hash = job.codeSHA256 { try await store.recordTrustedUse(codeSHA256: hash, tenant: job.tenantId) }
        guard job.approvedBy == "session_policy", let sessionId = job.approvalDetail else { return }
        try await store.recordSessionUse(id: sessionId, at: clock.now())
    }
}

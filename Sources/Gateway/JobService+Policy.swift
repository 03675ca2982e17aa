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
        if try await store.isTrusted(codeSHA256: codeSHA256, tenant: caller.tenantId) {
            return ApprovalVerdict(approvedBy: "trusted_code", reason: "trusted_code")
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
        if gaps.secrets.isEmpty && gaps.networks.isEmpty {
            return ApprovalVerdict(approvedBy: "session_policy", detail: sessionId, reason: "session_policy")
        }
        let violations = gaps.secrets.map { "secret \($0) is not in the session's policy" }
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
        guard job.approvedBy == "session_policy", let sessionId = job.approvalDetail else { return }
        try await store.recordSessionUse(id: sessionId, at: clock.now())
    }
}

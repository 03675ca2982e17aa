/// `POST /execute`: run a skill (or, with `dry_run`, ask what would happen).
public struct ExecuteRequest: Codable, Sendable, Hashable {
    public var skillId: String?
    public var skillCode: String?
    /// The SDK's type has it; the enclave refuses it (a person approves the code they are shown, so the
    /// agent sends that code as `skill_code`).
    public var skillUrl: String?
    /// Names of the secrets the agent asks for; each must be declared in the skill's `@secrets`.
    public var secrets: [String]?
    /// Named arguments, passed to the skill as environment variables (not secret, never redacted).
    public var args: [String: JSONScalar]?
    public var sessionId: String?
    public var dryRun: Bool?

    public init(skillId: String? = nil, skillCode: String? = nil, secrets: [String]? = nil, args: [String: JSONScalar]? = nil, sessionId: String? = nil, dryRun: Bool? = nil) {
        self.skillId = skillId
        self.skillCode = skillCode
        self.secrets = secrets
        self.args = args
        self.sessionId = sessionId
        self.dryRun = dryRun
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case skillId = "skill_id", skillCode = "skill_code", skillUrl = "skill_url", secrets, args, sessionId = "session_id", dryRun = "dry_run"
    }
}

/// The reply to `POST /execute`, and to `GET /execute/:id/status` (which adds the result and times).
public struct ExecutionStatus: Codable, Sendable, Hashable {
    public var requestId: String
    /// `pending`, `pending_scope`, `approved`, `executing`, `awaiting_secrets`, `completed`, `failed`, `denied`.
    public var status: String
    public var sessionId: String?
    public var approvalUrl: String?
    public var statusUrl: String?
    public var message: String?
    public var policyViolations: [String]?
    public var skillId: String?
    public var codeSha256: String?
    /// Milliseconds since the epoch.
    public var createdAt: Int64?
    public var approvedAt: Int64?
    public var executedAt: Int64?
    public var completedAt: Int64?
    /// How the job was approved: `human` (an approver's passkey), `token` (whoever held the approval link, for accounts without approvers), `trusted_code`, `session_policy`.
    public var approvedBy: String?
    /// Secrets the job declares that have no value yet (`awaiting_secrets`).
    public var missingSecrets: [String]?
    /// The attested result, once the job ran (`completed`, or `failed` after running).
    public var result: AttestedResult?
    public var error: String?

    public init(requestId: String, status: String) {
        self.requestId = requestId
        self.status = status
    }

    enum CodingKeys: String, CodingKey {
        case requestId = "request_id", status, sessionId = "session_id", approvalUrl = "approval_url", statusUrl = "status_url"
        case message, policyViolations = "policy_violations", skillId = "skill_id", codeSha256 = "code_sha256"
        case createdAt = "created_at", approvedAt = "approved_at", executedAt = "executed_at", completedAt = "completed_at"
        case approvedBy = "approved_by", missingSecrets = "missing_secrets", result, error
    }

    /// Statuses after which nothing changes.
    public static let finalStatuses: Set<String> = ["completed", "failed", "denied"]
    public var isFinal: Bool { Self.finalStatuses.contains(status) }
}

/// The reply to a dry run: what would happen, and why, without running anything.
public struct DryRunResult: Codable, Sendable, Hashable {
    public var dryRun = true
    public var wouldAutoApprove: Bool
    /// `trusted_code`, `session_policy`, `policy_violation` or `needs_approval`.
    public var reason: String
    public var sessionId: String?
    public var policyViolations: [String]?
    public var policyGaps: PolicyGaps
    public var missingSecrets: [String]

    public struct PolicyGaps: Codable, Sendable, Hashable {
        public var newSecrets: [String]
        public var newNetworks: [String]
        public init(newSecrets: [String], newNetworks: [String]) {
            self.newSecrets = newSecrets
            self.newNetworks = newNetworks
        }
        enum CodingKeys: String, CodingKey { case newSecrets = "new_secrets", newNetworks = "new_networks" }
    }

    public init(wouldAutoApprove: Bool, reason: String, sessionId: String?, policyViolations: [String]?, policyGaps: PolicyGaps, missingSecrets: [String]) {
        self.wouldAutoApprove = wouldAutoApprove
        self.reason = reason
        self.sessionId = sessionId
        self.policyViolations = policyViolations
        self.policyGaps = policyGaps
        self.missingSecrets = missingSecrets
    }

    enum CodingKeys: String, CodingKey {
        case dryRun = "dry_run", wouldAutoApprove = "would_auto_approve", reason, sessionId = "session_id"
        case policyViolations = "policy_violations", policyGaps = "policy_gaps", missingSecrets = "missing_secrets"
    }
}

/// `POST /scope`: ask a human once for what a session's skills may use.
public struct ScopeRequest: Codable, Sendable, Hashable {
    public var description: String
    public var constraints: [String]?
    public var secrets: [String]?
    public var networks: [String]?
    public var sessionId: String?
    /// A skill the agent plans to run in the session, shown to the approver.
    public var skillCode: String?

    public init(description: String, constraints: [String]? = nil, secrets: [String]? = nil, networks: [String]? = nil, sessionId: String? = nil, skillCode: String? = nil) {
        self.description = description
        self.constraints = constraints
        self.secrets = secrets
        self.networks = networks
        self.sessionId = sessionId
        self.skillCode = skillCode
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case description, constraints, secrets, networks, sessionId = "session_id", skillCode = "skill_code"
    }
}

/// A session's approved policy, as `GET /sessions` shows it: snake_case keys like the rest of the API
/// (`allowed_secrets`, `allowed_networks`). Decoding also reads the camelCase keys earlier versions wrote
/// (`allowedSecrets`, `allowedNetworks`); the SDK's types (oauth3-skill v0.2.0) read neither.
public struct SessionPolicyView: Codable, Sendable, Hashable {
    public var description: String
    /// Shown to the approver verbatim; not machine-checked.
    public var constraints: [String]
    public var allowedSecrets: [String]
    public var allowedNetworks: [String]
    /// The code its scopes showed (SHA-256): what runs without a human, unless `any_code`.
    public var approvedCode: [String]?
    /// The approver allowed any code within these hosts and secrets.
    public var anyCode: Bool?
    public init(description: String, constraints: [String], allowedSecrets: [String], allowedNetworks: [String], approvedCode: [String]? = nil, anyCode: Bool? = nil) {
        self.description = description
        self.constraints = constraints
        self.allowedSecrets = allowedSecrets
        self.allowedNetworks = allowedNetworks
        self.approvedCode = approvedCode
        self.anyCode = anyCode
    }
    enum CodingKeys: String, CodingKey {
        case description, constraints, allowedSecrets = "allowed_secrets", allowedNetworks = "allowed_networks"
        case approvedCode = "approved_code", anyCode = "any_code"
    }
    enum EarlierKeys: String, CodingKey { case allowedSecrets, allowedNetworks }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let earlier = try decoder.container(keyedBy: EarlierKeys.self)
        description = try container.decode(String.self, forKey: .description)
        constraints = try container.decode([String].self, forKey: .constraints)
        allowedSecrets = try container.decodeIfPresent([String].self, forKey: .allowedSecrets)
            ?? earlier.decode([String].self, forKey: .allowedSecrets)
        allowedNetworks = try container.decodeIfPresent([String].self, forKey: .allowedNetworks)
            ?? earlier.decode([String].self, forKey: .allowedNetworks)
        approvedCode = try container.decodeIfPresent([String].self, forKey: .approvedCode)
        anyCode = try container.decodeIfPresent(Bool.self, forKey: .anyCode)
    }
}

/// One session in `GET /sessions`.
public struct SessionInfo: Codable, Sendable, Hashable {
    public var sessionId: String
    /// `active`, `revoked` or `expired`.
    public var status: String
    public var createdAt: Int64
    public var lastActivity: Int64
    public var ageMinutes: Int
    public var idleMinutes: Int
    public var runs: Int
    public var policy: SessionPolicyView
    /// The expiry (Unix ms) and run count the approver set, if any.
    public var expiresAt: Int64?
    public var maxRuns: Int?
    public init(sessionId: String, status: String, createdAt: Int64, lastActivity: Int64, ageMinutes: Int, idleMinutes: Int, runs: Int, policy: SessionPolicyView) {
        self.sessionId = sessionId
        self.status = status
        self.createdAt = createdAt
        self.lastActivity = lastActivity
        self.ageMinutes = ageMinutes
        self.idleMinutes = idleMinutes
        self.runs = runs
        self.policy = policy
    }
    enum CodingKeys: String, CodingKey {
        case sessionId = "session_id", status, createdAt = "created_at", lastActivity = "last_activity", ageMinutes = "age_minutes"
        case idleMinutes = "idle_minutes", runs, policy, expiresAt = "expires_at", maxRuns = "max_runs"
    }
}

/// `GET /sessions`.
public struct SessionList: Codable, Sendable, Hashable {
    public var sessions: [SessionInfo]
    public init(sessions: [SessionInfo]) { self.sessions = sessions }
}

/// `POST /approve/:id`, as JSON or as the approval page's form.
public struct ApprovalDecision: Codable, Sendable, Hashable {
    public var token: String
    /// `approve` or `deny`.
    public var action: String
    /// `once` (default) or `trust_code`.
    public var level: String?
    /// Values for the job's missing secrets, stored for the job's tenant.
    public var secrets: [String: String]?
    /// Hosts to bind supplied secrets to (`secrets` names them): such a secret is stored bound.
    public var secretHosts: [String: [String]]?
    /// Scope options (see ``ScopeOptions``).
    public var options: ScopeOptions?
    /// Required when the tenant has approvers: the passkey's assertion over the decision's statement.
    public var passkey: PasskeyAssertion?
    public init(token: String, action: String, level: String? = nil, secrets: [String: String]? = nil, options: ScopeOptions? = nil, passkey: PasskeyAssertion? = nil) {
        self.token = token
        self.action = action
        self.level = level
        self.secrets = secrets
        self.options = options
        self.passkey = passkey
    }
    enum CodingKeys: String, CodingKey { case token, action, level, secrets, secretHosts = "secret_hosts", options, passkey }
}

/// `GET /approve/:id?token=` as JSON: what the approver is asked to allow.
public struct ApprovalRequest: Codable, Sendable, Hashable {
    public var id: String
    public var status: String
    /// `execute` or `scope`.
    public var kind: String
    public var skillId: String?
    public var description: String?
    public var code: String?
    public var codeSha256: String?
    public var networks: [String]
    public var secrets: [String]
    public var missingSecrets: [String]
    public var constraints: [String]?
    public var sessionId: String?
    public var timeoutSeconds: Int?
    public var createdAt: Int64
    /// The account asking (its id and name), the arguments the job runs with, and who runs it.
    public var tenantId: String?
    public var accountName: String?
    public var args: [String: String]?
    public var enclave: EnclaveIdentity?
    /// Whether deciding needs an approver's passkey (the account has approvers); the token then only reads.
    public var passkeyRequired: Bool?
    /// The stored bindings of the declared secrets that are bound (the job sees placeholders for them).
    public var secretBindings: [String: SecretBinding]?
    public init(id: String, status: String, kind: String, skillId: String?, description: String?, code: String?, codeSha256: String?, networks: [String], secrets: [String], missingSecrets: [String], constraints: [String]?, sessionId: String?, timeoutSeconds: Int?, createdAt: Int64) {
        self.id = id
        self.status = status
        self.kind = kind
        self.skillId = skillId
        self.description = description
        self.code = code
        self.codeSha256 = codeSha256
        self.networks = networks
        self.secrets = secrets
        self.missingSecrets = missingSecrets
        self.constraints = constraints
        self.sessionId = sessionId
        self.timeoutSeconds = timeoutSeconds
        self.createdAt = createdAt
    }
    enum CodingKeys: String, CodingKey {
        case id, status, kind, skillId = "skill_id", description, code, codeSha256 = "code_sha256", networks, secrets
        case missingSecrets = "missing_secrets", constraints, sessionId = "session_id", timeoutSeconds = "timeout_seconds"
        case createdAt = "created_at", tenantId = "tenant_id", accountName = "account_name", args, enclave, passkeyRequired = "passkey_required"
        case secretBindings = "secret_bindings"
    }
}

/// The reply to `POST /approve/:id`.
public struct ApprovalOutcome: Codable, Sendable, Hashable {
    public var id: String
    public var status: String
    public var message: String?
    public var sessionId: String?
    public var missingSecrets: [String]?
    public init(id: String, status: String, message: String? = nil, sessionId: String? = nil, missingSecrets: [String]? = nil) {
        self.id = id
        self.status = status
        self.message = message
        self.sessionId = sessionId
        self.missingSecrets = missingSecrets
    }
    enum CodingKeys: String, CodingKey { case id, status, message, sessionId = "session_id", missingSecrets = "missing_secrets" }
}

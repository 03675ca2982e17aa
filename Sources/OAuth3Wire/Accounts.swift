/// `POST /signup`.
public struct SignupRequest: Codable, Sendable, Hashable {
    public var name: String?
    public var email: String?
    public init(name: String? = nil, email: String? = nil) {
        self.name = name
        self.email = email
    }
}

/// The reply to `POST /signup`. The key is shown once; the enclave keeps only its hash.
public struct SignupResponse: Codable, Sendable, Hashable {
    public var tenantId: String
    public var apiKey: String
    public init(tenantId: String, apiKey: String) {
        self.tenantId = tenantId
        self.apiKey = apiKey
    }
    enum CodingKeys: String, CodingKey { case tenantId = "tenant_id", apiKey = "api_key" }
}

/// `GET /me`.
public struct TenantInfo: Codable, Sendable, Hashable {
    public var tenantId: String
    public var name: String?
    public var plan: String
    /// `api_key` or `jwt`.
    public var authentication: String
    public var createdAt: Int64
    public var secrets: Int
    public var jobs: Int
    public init(tenantId: String, name: String?, plan: String, authentication: String, createdAt: Int64, secrets: Int, jobs: Int) {
        self.tenantId = tenantId
        self.name = name
        self.plan = plan
        self.authentication = authentication
        self.createdAt = createdAt
        self.secrets = secrets
        self.jobs = jobs
    }
    enum CodingKeys: String, CodingKey {
        case tenantId = "tenant_id", name, plan, authentication, createdAt = "created_at", secrets, jobs
    }
}

/// One past execution in `GET /history`.
public struct HistoryEntry: Codable, Sendable, Hashable {
    public var requestId: String
    public var skillId: String
    public var codeSha256: String
    public var status: String
    public var approvedBy: String?
    public var outcome: String?
    public var createdAt: Int64
    public var completedAt: Int64?
    public init(requestId: String, skillId: String, codeSha256: String, status: String, approvedBy: String?, outcome: String?, createdAt: Int64, completedAt: Int64?) {
        self.requestId = requestId
        self.skillId = skillId
        self.codeSha256 = codeSha256
        self.status = status
        self.approvedBy = approvedBy
        self.outcome = outcome
        self.createdAt = createdAt
        self.completedAt = completedAt
    }
    enum CodingKeys: String, CodingKey {
        case requestId = "request_id", skillId = "skill_id", codeSha256 = "code_sha256", status, approvedBy = "approved_by"
        case outcome, createdAt = "created_at", completedAt = "completed_at"
    }
}

/// `GET /history`.
public struct HistoryResponse: Codable, Sendable, Hashable {
    public var history: [HistoryEntry]
    public init(history: [HistoryEntry]) { self.history = history }
}

/// `PUT /secrets/:name` (and the legacy `POST /secrets` with `name`): a plain `value`, or a value
/// `sealed` to the enclave's HPKE key so a relay never sees it.
///
/// With `hosts`, the secret is bound: the job gets a placeholder, and the enclave's egress proxy writes the
/// value into request headers (`placement: "header"`, the only placement) to those hosts only.
public struct SecretValue: Codable, Sendable, Hashable {
    public var name: String?
    public var value: String?
    public var sealed: SealedValue?
    /// The hosts a bound secret may be sent to, in `@network`'s form (`api.github.com`, `*.example.com:8443`).
    public var hosts: [String]?
    /// Where the value goes: `header` (the default for a bound secret).
    public var placement: String?
    public init(name: String? = nil, value: String? = nil, sealed: SealedValue? = nil, hosts: [String]? = nil, placement: String? = nil) {
        self.name = name
        self.value = value
        self.sealed = sealed
        self.hosts = hosts
        self.placement = placement
    }
}

/// Where a bound secret may go: its hosts (`host:port`, as `@network` normalises them, sorted) and placement.
public struct SecretBinding: Codable, Sendable, Hashable {
    public var hosts: [String]
    public var placement: String
    public init(hosts: [String], placement: String) {
        self.hosts = hosts
        self.placement = placement
    }
}

/// An HPKE-sealed value (X25519-HKDF-SHA256, HKDF-SHA256, ChaCha20-Poly1305; info binds tenant and name).
public struct SealedValue: Codable, Sendable, Hashable {
    /// The encapsulated key, hex.
    public var enc: String
    public var ciphertext: String
    public init(enc: String, ciphertext: String) {
        self.enc = enc
        self.ciphertext = ciphertext
    }
}

/// One stored secret: its name, dates and binding, never its value.
public struct SecretInfo: Codable, Sendable, Hashable {
    public var name: String
    public var createdAt: Int64
    public var updatedAt: Int64
    /// Where a bound secret may go; `nil` for a secret the job receives as an environment variable.
    public var binding: SecretBinding?
    public init(name: String, createdAt: Int64, updatedAt: Int64, binding: SecretBinding? = nil) {
        self.name = name
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.binding = binding
    }
    enum CodingKeys: String, CodingKey { case name, createdAt = "created_at", updatedAt = "updated_at", binding }
}

/// `GET /secrets`.
public struct SecretList: Codable, Sendable, Hashable {
    public var secrets: [SecretInfo]
    public init(secrets: [SecretInfo]) { self.secrets = secrets }
}

/// Every error reply: what is wrong and where.
public struct ErrorBody: Codable, Sendable, Hashable {
    public var error: String
    /// For invalid skill headers: each problem with its line and tag.
    public var problems: [Problem]?
    /// For 429: the limit or per-tenant quota that refused the request (`queue`, `pending_requests`,
    /// `active_jobs`, `long_polls`, `stored_bytes`).
    public var quota: String?
    public struct Problem: Codable, Sendable, Hashable {
        public var line: Int
        public var tag: String?
        public var message: String
        public init(line: Int, tag: String?, message: String) {
            self.line = line
            self.tag = tag
            self.message = message
        }
    }
    public init(error: String, problems: [Problem]? = nil, quota: String? = nil) {
        self.error = error
        self.problems = problems
        self.quota = quota
    }
}

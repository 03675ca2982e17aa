/// What a person approves with a passkey: every field that decides what runs, so the signature covers
/// exactly that. Its digest (``ConsentStatement/domain``, NUL, then the canonical JSON of this value; see
/// `Consent.ConsentDigest`) is the WebAuthn challenge, so an assertion made for one statement cannot
/// serve for another request, level, argument or option.
///
/// Absent optionals are left out of the JSON (and so of the digest), never written as `null`.
public struct ConsentStatement: Codable, Sendable, Hashable {
    /// Domain separation for the digest.
    public static let domain = "oauth3-enclave/consent/v1"

    /// What is decided: `decide` (a request), or an owner's action: `enrol_approver`,
    /// `revoke_approver`, `revoke_trusted_code`.
    public var purpose: String
    public var tenantId: String
    /// The request id for `decide`; the credential id or code SHA-256 an owner's action is about.
    public var subject: String
    /// `approve` or `deny` (for `decide`).
    public var decision: String?
    /// `once`, `trust_code` or `scope` (for `decide`).
    public var level: String?
    public var codeSha256: String?
    public var hosts: [String]
    public var secrets: [String]
    /// Names of the secrets whose values the approver typed with this decision (never the values).
    public var suppliedSecrets: [String]
    public var args: [String: String]
    public var timeoutSeconds: Int?
    /// A scope approved for any code within its hosts and secrets, not only the code shown.
    public var anyCode: Bool?
    /// A scope's expiry (Unix ms) and run count, as the approver set them.
    public var expiresAt: Int64?
    public var maxRuns: Int?
    /// Single use: the challenge this statement was issued with (hex), and when (Unix ms).
    public var nonce: String
    public var issuedAt: Int64

    public init(
        purpose: String, tenantId: String, subject: String, decision: String? = nil, level: String? = nil, codeSha256: String? = nil,
        hosts: [String] = [], secrets: [String] = [], suppliedSecrets: [String] = [], args: [String: String] = [:], timeoutSeconds: Int? = nil,
        anyCode: Bool? = nil, expiresAt: Int64? = nil, maxRuns: Int? = nil, nonce: String, issuedAt: Int64
    ) {
        self.purpose = purpose
        self.tenantId = tenantId
        self.subject = subject
        self.decision = decision
        self.level = level
        self.codeSha256 = codeSha256
        self.hosts = hosts
        self.secrets = secrets
        self.suppliedSecrets = suppliedSecrets
        self.args = args
        self.timeoutSeconds = timeoutSeconds
        self.anyCode = anyCode
        self.expiresAt = expiresAt
        self.maxRuns = maxRuns
        self.nonce = nonce
        self.issuedAt = issuedAt
    }

    enum CodingKeys: String, CodingKey {
        case purpose, tenantId = "tenant_id", subject, decision, level, codeSha256 = "code_sha256", hosts, secrets
        case suppliedSecrets = "supplied_secrets", args, timeoutSeconds = "timeout_seconds", anyCode = "any_code"
        case expiresAt = "expires_at", maxRuns = "max_runs", nonce, issuedAt = "issued_at"
    }
}

/// A passkey's signature over a ``ConsentStatement``: everything an auditor needs to check it offline.
/// Binary fields are base64url without padding, as WebAuthn writes them.
public struct PasskeyConsent: Codable, Sendable, Hashable {
    public var statement: ConsentStatement
    /// Hex SHA-256 of the statement's canonical encoding: the WebAuthn challenge.
    public var digest: String
    public var credentialId: String
    /// The approver's public key as COSE (base64url), and its COSE algorithm (-7 ES256, -8 EdDSA).
    public var publicKey: String
    public var algorithm: Int
    public var approverName: String?
    public var authenticatorData: String
    public var clientDataJSON: String
    public var signature: String

    public init(
        statement: ConsentStatement, digest: String, credentialId: String, publicKey: String, algorithm: Int, approverName: String?,
        authenticatorData: String, clientDataJSON: String, signature: String
    ) {
        self.statement = statement
        self.digest = digest
        self.credentialId = credentialId
        self.publicKey = publicKey
        self.algorithm = algorithm
        self.approverName = approverName
        self.authenticatorData = authenticatorData
        self.clientDataJSON = clientDataJSON
        self.signature = signature
    }

    enum CodingKeys: String, CodingKey {
        case statement, digest, credentialId = "credential_id", publicKey = "public_key", algorithm, approverName = "approver_name"
        case authenticatorData = "authenticator_data", clientDataJSON = "client_data_json", signature
    }
}

/// How a job came to run. Only `passkey` (directly, or as the basis of trusted code or a session)
/// proves that a person approved; `token` says that whoever held the approval link decided.
public enum ApprovalMethod: String, Codable, Sendable, Hashable {
    case passkey, token, trustedCode = "trusted_code", session
}

/// The consent record in a result's attested part.
public struct ApprovalRecord: Codable, Sendable, Hashable {
    public var method: ApprovalMethod
    /// When the decision (or the auto-approval) happened, Unix ms.
    public var at: Int64
    /// The passkey signature: the decision itself (`passkey`), or the decision that trusted this code
    /// (`trusted_code`) or approved the session's scope (`session`). Absent for token-only accounts.
    public var passkey: PasskeyConsent?
    public var sessionId: String?
    /// For `session`: the scope allowed any code within its hosts and secrets, not only the code shown.
    public var anyCode: Bool?

    public init(method: ApprovalMethod, at: Int64, passkey: PasskeyConsent? = nil, sessionId: String? = nil, anyCode: Bool? = nil) {
        self.method = method
        self.at = at
        self.passkey = passkey
        self.sessionId = sessionId
        self.anyCode = anyCode
    }

    enum CodingKeys: String, CodingKey { case method, at, passkey, sessionId = "session_id", anyCode = "any_code" }
}

/// What a result binds besides its output: how it was approved, with what arguments, and when
/// (Unix ms, the enclave's wall clock).
public struct RunConsent: Codable, Sendable, Hashable {
    public var approval: ApprovalRecord
    public var args: [String: String]
    public var createdAt: Int64
    public var approvedAt: Int64?
    public var startedAt: Int64?
    public var finishedAt: Int64

    public init(approval: ApprovalRecord, args: [String: String], createdAt: Int64, approvedAt: Int64?, startedAt: Int64?, finishedAt: Int64) {
        self.approval = approval
        self.args = args
        self.createdAt = createdAt
        self.approvedAt = approvedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    enum CodingKeys: String, CodingKey {
        case approval, args, createdAt = "created_at", approvedAt = "approved_at", startedAt = "started_at", finishedAt = "finished_at"
    }
}

/// A WebAuthn assertion as the page sends it back: the challenge's nonce and the authenticator's reply
/// (base64url).
public struct PasskeyAssertion: Codable, Sendable, Hashable {
    public var nonce: String
    public var credentialId: String
    public var authenticatorData: String
    public var clientDataJSON: String
    public var signature: String

    public init(nonce: String, credentialId: String, authenticatorData: String, clientDataJSON: String, signature: String) {
        self.nonce = nonce
        self.credentialId = credentialId
        self.authenticatorData = authenticatorData
        self.clientDataJSON = clientDataJSON
        self.signature = signature
    }

    enum CodingKeys: String, CodingKey {
        case nonce, credentialId = "credential_id", authenticatorData = "authenticator_data", clientDataJSON = "client_data_json", signature
    }
}

/// What a scope's approver may set besides the decision: "any code within these hosts and secrets"
/// instead of only the code shown, an expiry and a run count. Trusting code takes the same expiry and
/// run count.
public struct ScopeOptions: Codable, Sendable, Hashable {
    public var anyCode: Bool?
    public var expiresInMinutes: Int?
    public var maxRuns: Int?

    public init(anyCode: Bool? = nil, expiresInMinutes: Int? = nil, maxRuns: Int? = nil) {
        self.anyCode = anyCode
        self.expiresInMinutes = expiresInMinutes
        self.maxRuns = maxRuns
    }

    enum CodingKeys: String, CodingKey { case anyCode = "any_code", expiresInMinutes = "expires_in_minutes", maxRuns = "max_runs" }
}

/// `POST /approve/:id/challenge` (and the owner's actions): the decision a passkey is about to sign.
public struct ChallengeRequest: Codable, Sendable, Hashable {
    public var token: String?
    public var action: String
    public var level: String?
    /// Names of the secrets whose values will be sent with the decision.
    public var suppliedSecrets: [String]?
    public var options: ScopeOptions?

    public init(token: String?, action: String, level: String? = nil, suppliedSecrets: [String]? = nil, options: ScopeOptions? = nil) {
        self.token = token
        self.action = action
        self.level = level
        self.suppliedSecrets = suppliedSecrets
        self.options = options
    }

    enum CodingKeys: String, CodingKey { case token, action, level, suppliedSecrets = "supplied_secrets", options }
}

/// What the page hands to `navigator.credentials.get` (or `create`), and the statement it commits to.
public struct ChallengeReply: Codable, Sendable, Hashable {
    public var nonce: String
    /// base64url of the statement's digest (or of random bytes, for an enrolment).
    public var challenge: String
    public var rpId: String
    public var statement: ConsentStatement?
    /// Credential ids (base64url) that may answer.
    public var allowCredentials: [String]
    /// For an enrolment: the WebAuthn user handle (base64url) and name.
    public var userId: String?
    public var userName: String?
    public var timeoutMilliseconds: Int

    public init(nonce: String, challenge: String, rpId: String, statement: ConsentStatement?, allowCredentials: [String], userId: String? = nil, userName: String? = nil, timeoutMilliseconds: Int) {
        self.nonce = nonce
        self.challenge = challenge
        self.rpId = rpId
        self.statement = statement
        self.allowCredentials = allowCredentials
        self.userId = userId
        self.userName = userName
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case nonce, challenge, rpId = "rp_id", statement, allowCredentials = "allow_credentials", userId = "user_id", userName = "user_name"
        case timeoutMilliseconds = "timeout_ms"
    }
}

/// An enrolment: the nonce of its challenge and the authenticator's `create` reply (base64url). For an
/// account that already has approvers, `passkey` is an existing approver's assertion allowing it.
public struct PasskeyEnrolment: Codable, Sendable, Hashable {
    public var nonce: String
    public var name: String?
    public var attestationObject: String
    public var clientDataJSON: String
    public var passkey: PasskeyAssertion?

    public init(nonce: String, name: String?, attestationObject: String, clientDataJSON: String, passkey: PasskeyAssertion? = nil) {
        self.nonce = nonce
        self.name = name
        self.attestationObject = attestationObject
        self.clientDataJSON = clientDataJSON
        self.passkey = passkey
    }

    enum CodingKeys: String, CodingKey { case nonce, name, attestationObject = "attestation_object", clientDataJSON = "client_data_json", passkey }
}

/// Which enclave shows a page: its application identity, and whether its quotes come from the
/// development guest agent (which proves nothing about hardware).
public struct EnclaveIdentity: Codable, Sendable, Hashable {
    public var appId: String
    public var composeHash: String
    public var development: Bool

    public init(appId: String, composeHash: String, development: Bool) {
        self.appId = appId
        self.composeHash = composeHash
        self.development = development
    }

    enum CodingKeys: String, CodingKey { case appId = "app_id", composeHash = "compose_hash", development }
}

/// A tenant's approver, as listed (never its key material beyond the public key's algorithm).
public struct ApproverInfo: Codable, Sendable, Hashable {
    public var credentialId: String
    public var name: String
    public var algorithm: Int
    public var createdAt: Int64

    public init(credentialId: String, name: String, algorithm: Int, createdAt: Int64) {
        self.credentialId = credentialId
        self.name = name
        self.algorithm = algorithm
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey { case credentialId = "credential_id", name, algorithm, createdAt = "created_at" }
}

/// A trusted code hash, as `GET /trusted` lists it.
public struct TrustedCodeInfo: Codable, Sendable, Hashable {
    public var codeSha256: String
    public var createdAt: Int64
    public var expiresAt: Int64?
    public var maxRuns: Int?
    public var runs: Int
    /// Whether a passkey trusted it (`false`: a token decision).
    public var byPasskey: Bool

    public init(codeSha256: String, createdAt: Int64, expiresAt: Int64?, maxRuns: Int?, runs: Int, byPasskey: Bool) {
        self.codeSha256 = codeSha256
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.maxRuns = maxRuns
        self.runs = runs
        self.byPasskey = byPasskey
    }

    enum CodingKeys: String, CodingKey {
        case codeSha256 = "code_sha256", createdAt = "created_at", expiresAt = "expires_at", maxRuns = "max_runs", runs, byPasskey = "by_passkey"
    }
}

/// `POST /account/challenge`: an owner's action a passkey is about to allow.
public struct OwnerChallengeRequest: Codable, Sendable, Hashable {
    /// `enrol_approver`, `revoke_approver`, `revoke_trusted_code` or `replace_agent_key`.
    public var purpose: String
    /// The credential id or code SHA-256 it is about.
    public var subject: String
    public init(purpose: String, subject: String) {
        self.purpose = purpose
        self.subject = subject
    }
}

/// The body of an owner's `DELETE` for an account with approvers.
public struct OwnerAction: Codable, Sendable, Hashable {
    public var passkey: PasskeyAssertion?
    public init(passkey: PasskeyAssertion?) { self.passkey = passkey }
}

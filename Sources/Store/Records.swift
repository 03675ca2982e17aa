import Foundation
import GRDB

/// A tenant: an agent's account (API key) or an orchestrator's tenant (JWT).
public struct TenantRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "tenant"
    public var id: String
    public var name: String?
    public var email: String?
    public var plan: String
    /// SHA-256 of the API key; `nil` for tenants known only through JWTs.
    public var apiKeyHash: Data?
    public var createdAt: Int64
}

/// The lifecycle of a job.
public enum JobStatus: String, Codable, Sendable, CaseIterable {
    case pending, pendingScope = "pending_scope", approved, executing, awaitingSecrets = "awaiting_secrets"
    case completed, failed, denied

    /// Nothing changes after these.
    public var isFinal: Bool { self == .completed || self == .failed || self == .denied }
    /// A human may still decide.
    public var awaitsHuman: Bool { self == .pending || self == .pendingScope || self == .awaitingSecrets }
}

/// One execution or scope request.
public struct JobRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "job"
    public var id: String
    public var tenantId: String
    /// `execute` or `scope`.
    public var kind: String
    public var skillId: String?
    public var code: String?
    public var codeSHA256: String?
    public var argsJSON: String?
    public var scopeJSON: String?
    public var sessionId: String?
    public var status: JobStatus
    /// SHA-256 of the approval token; the token itself is only ever in the approval URL.
    public var tokenHash: Data
    public var tokenExpiresAt: Int64
    /// `human` (a passkey decision), `token` (the approval link decided), `trusted_code`, `session_policy`.
    public var approvedBy: String?
    /// Why: the session id for `session_policy`, the approval level for `human`.
    public var approvalDetail: String?
    public var resultJSON: String?
    public var error: String?
    public var outcome: String?
    public var createdAt: Int64
    public var approvedAt: Int64?
    public var executedAt: Int64?
    public var completedAt: Int64?
    public var updatedAt: Int64
    /// How it was approved (`OAuth3Wire.ApprovalRecord` as JSON), for its attested result.
    public var consentJSON: String?

    public init(
        id: String, tenantId: String, kind: String, skillId: String?, code: String?, codeSHA256: String?, argsJSON: String?,
        scopeJSON: String?, sessionId: String?, status: JobStatus, tokenHash: Data, tokenExpiresAt: Int64, createdAt: Int64
    ) {
        self.id = id
        self.tenantId = tenantId
        self.kind = kind
        self.skillId = skillId
        self.code = code
        self.codeSHA256 = codeSHA256
        self.argsJSON = argsJSON
        self.scopeJSON = scopeJSON
        self.sessionId = sessionId
        self.status = status
        self.tokenHash = tokenHash
        self.tokenExpiresAt = tokenExpiresAt
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }
}

/// A secret as stored: sealed, never plaintext.
public struct SecretRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "secret"
    public var tenantId: String
    public var name: String
    public var sealed: Data
    public var createdAt: Int64
    public var updatedAt: Int64
    /// For a bound secret: its binding's canonical JSON, authenticated by ``sealed`` (see `Vault.seal(_:name:tenant:binding:)`).
    public var binding: String?
}

/// A session: the policy a human approved for a scope, and its use.
public struct SessionRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "session"
    public var id: String
    public var tenantId: String
    public var policyJSON: String
    public var createdAt: Int64
    public var lastActivity: Int64
    public var revokedAt: Int64?
    public var expiresAt: Int64?
    public var maxRuns: Int?
    public var runs: Int
    /// The passkey consents that approved its scopes (`[OAuth3Wire.PasskeyConsent]` as JSON), if any.
    public var consentJSON: String?

    public init(id: String, tenantId: String, policyJSON: String, createdAt: Int64) {
        self.id = id
        self.tenantId = tenantId
        self.policyJSON = policyJSON
        self.createdAt = createdAt
        self.lastActivity = createdAt
        self.runs = 0
    }
}

/// One audit entry, chained to the previous by hash.
public struct AuditRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "audit"
    public var seq: Int64?
    public var tenantId: String?
    public var jobId: String?
    public var event: String
    public var detail: String
    public var at: Int64
    public var previousHash: String
    public var hash: String
}

import Foundation
import GRDB

/// A passkey enrolled as one of a tenant's approvers.
public struct ApproverRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "approver"
    /// base64url, as WebAuthn names it.
    public var credentialId: String
    public var tenantId: String
    public var name: String
    /// The COSE public key.
    public var publicKey: Data
    public var algorithm: Int
    public var signCount: Int64
    public var createdAt: Int64
    public var revokedAt: Int64?

    public init(credentialId: String, tenantId: String, name: String, publicKey: Data, algorithm: Int, signCount: Int64, createdAt: Int64) {
        self.credentialId = credentialId
        self.tenantId = tenantId
        self.name = name
        self.publicKey = publicKey
        self.algorithm = algorithm
        self.signCount = signCount
        self.createdAt = createdAt
    }
}

/// A challenge handed to a page: what the passkey must sign, for how long, and whether it was used.
public struct ConsentChallengeRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "consentChallenge"
    public var nonce: String
    /// `nil` for a browser signup, whose tenant does not exist yet.
    public var tenantId: String?
    /// The request id, or what an owner's action or an enrolment is about.
    public var subject: String
    public var statementJSON: String
    public var expiresAt: Int64
    public var usedAt: Int64?

    public init(nonce: String, tenantId: String?, subject: String, statementJSON: String, expiresAt: Int64) {
        self.nonce = nonce
        self.tenantId = tenantId
        self.subject = subject
        self.statementJSON = statementJSON
        self.expiresAt = expiresAt
    }
}

/// Code a tenant trusts: it runs without asking while the trust is in force.
public struct TrustedCodeRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "trustedCode"
    public var tenantId: String
    public var codeSHA256: String
    public var createdAt: Int64
    /// The consent that trusted it (`OAuth3Wire.PasskeyConsent` as JSON), for tenants with approvers.
    public var consentJSON: String?
    public var expiresAt: Int64?
    public var maxRuns: Int?
    public var runs: Int

    /// Not expired and runs left.
    public func isActive(at now: Int64) -> Bool {
        (expiresAt.map { now < $0 } ?? true) && (maxRuns.map { runs < $0 } ?? true)
    }
}

import Foundation

/// A record whose row the daemon authenticates (a MAC over ``integrityEncoding``) and whose tenant-supplied
/// columns it seals (``sealedColumns(_:)``): the rows a decision depends on. Conformances are pure, so every
/// backend stores and checks the same bytes.
public protocol ProtectedRow: Sendable {
    /// The table, as the database names it (bound into every MAC and seal).
    static var tableName: String { get }
    /// The primary key as text (composite keys joined with `/`), bound into every MAC and seal.
    var rowName: String { get }
    /// The tenant the row belongs to, bound into every seal.
    var rowTenant: String { get }
    /// The same record with each sealed column passed through `transform` (sealing or opening), by column name.
    func sealedColumns(_ transform: (_ column: String, _ value: String) throws -> String) rethrows -> Self
    /// Every field that matters, in a fixed order, after the table and the primary key.
    var integrityEncoding: RowEncoding { get }
}

extension ProtectedRow {
    /// No sealed column: the row is authenticated, not sealed (a tenant's names and key hash, a passkey's public key).
    public func sealedColumns(_ transform: (String, String) throws -> String) rethrows -> Self { self }

    func address(_ column: String) -> ColumnAddress {
        ColumnAddress(table: Self.tableName, row: rowName, tenant: rowTenant, column: column)
    }
}

extension JobRecord: ProtectedRow {
    public var rowName: String { id }
    public var rowTenant: String { tenantId }

    /// Code, args, a scope request's policy, the result and the consent: everything the tenant or a person sent.
    public func sealedColumns(_ transform: (String, String) throws -> String) rethrows -> JobRecord {
        var job = self
        job.code = try code.map { try transform("code", $0) }
        job.argsJSON = try argsJSON.map { try transform("argsJSON", $0) }
        job.scopeJSON = try scopeJSON.map { try transform("scopeJSON", $0) }
        job.resultJSON = try resultJSON.map { try transform("resultJSON", $0) }
        job.consentJSON = try consentJSON.map { try transform("consentJSON", $0) }
        return job
    }

    /// Every column: what runs, with what grants, who approved it, how it ended.
    public var integrityEncoding: RowEncoding {
        var encoding = RowEncoding(table: Self.tableName)
        encoding.append(text: "id", id)
        encoding.append(text: "tenantId", tenantId)
        encoding.append(text: "kind", kind)
        encoding.append(text: "skillId", skillId)
        encoding.append(text: "code", code)
        encoding.append(text: "codeSHA256", codeSHA256)
        encoding.append(text: "argsJSON", argsJSON)
        encoding.append(text: "scopeJSON", scopeJSON)
        encoding.append(text: "sessionId", sessionId)
        encoding.append(text: "status", status.rawValue)
        encoding.append(bytes: "tokenHash", tokenHash)
        encoding.append(integer: "tokenExpiresAt", tokenExpiresAt)
        encoding.append(text: "approvedBy", approvedBy)
        encoding.append(text: "approvalDetail", approvalDetail)
        encoding.append(text: "resultJSON", resultJSON)
        encoding.append(text: "error", error)
        encoding.append(text: "outcome", outcome)
        encoding.append(integer: "createdAt", createdAt)
        encoding.append(integer: "approvedAt", approvedAt)
        encoding.append(integer: "executedAt", executedAt)
        encoding.append(integer: "completedAt", completedAt)
        encoding.append(integer: "updatedAt", updatedAt)
        encoding.append(text: "consentJSON", consentJSON)
        return encoding
    }
}

extension SessionRecord: ProtectedRow {
    public var rowName: String { id }
    public var rowTenant: String { tenantId }

    /// The approved policy and the consents behind it.
    public func sealedColumns(_ transform: (String, String) throws -> String) rethrows -> SessionRecord {
        var session = self
        session.policyJSON = try transform("policyJSON", policyJSON)
        session.consentJSON = try consentJSON.map { try transform("consentJSON", $0) }
        return session
    }

    /// Every column: the policy, its limits and use, and whether it was revoked.
    public var integrityEncoding: RowEncoding {
        var encoding = RowEncoding(table: Self.tableName)
        encoding.append(text: "id", id)
        encoding.append(text: "tenantId", tenantId)
        encoding.append(text: "policyJSON", policyJSON)
        encoding.append(integer: "createdAt", createdAt)
        encoding.append(integer: "lastActivity", lastActivity)
        encoding.append(integer: "revokedAt", revokedAt)
        encoding.append(integer: "expiresAt", expiresAt)
        encoding.append(integer: "maxRuns", maxRuns.map(Int64.init))
        encoding.append(integer: "runs", Int64(runs))
        encoding.append(text: "consentJSON", consentJSON)
        return encoding
    }
}

extension TrustedCodeRecord: ProtectedRow {
    public var rowName: String { "\(tenantId)/\(codeSHA256)" }
    public var rowTenant: String { tenantId }

    /// The consent that trusted the code.
    public func sealedColumns(_ transform: (String, String) throws -> String) rethrows -> TrustedCodeRecord {
        var trusted = self
        trusted.consentJSON = try consentJSON.map { try transform("consentJSON", $0) }
        return trusted
    }

    /// Every column: which code, for whom, within which limits, how often used.
    public var integrityEncoding: RowEncoding {
        var encoding = RowEncoding(table: Self.tableName)
        encoding.append(text: "tenantId", tenantId)
        encoding.append(text: "codeSHA256", codeSHA256)
        encoding.append(integer: "createdAt", createdAt)
        encoding.append(text: "consentJSON", consentJSON)
        encoding.append(integer: "expiresAt", expiresAt)
        encoding.append(integer: "maxRuns", maxRuns.map(Int64.init))
        encoding.append(integer: "runs", Int64(runs))
        return encoding
    }
}

extension ApproverRecord: ProtectedRow {
    public var rowName: String { credentialId }
    public var rowTenant: String { tenantId }

    /// Every column: whose passkey, which public key, its counter, whether it was revoked.
    public var integrityEncoding: RowEncoding {
        var encoding = RowEncoding(table: Self.tableName)
        encoding.append(text: "credentialId", credentialId)
        encoding.append(text: "tenantId", tenantId)
        encoding.append(text: "name", name)
        encoding.append(bytes: "publicKey", publicKey)
        encoding.append(integer: "algorithm", Int64(algorithm))
        encoding.append(integer: "signCount", signCount)
        encoding.append(integer: "createdAt", createdAt)
        encoding.append(integer: "revokedAt", revokedAt)
        return encoding
    }
}

extension TenantRecord: ProtectedRow {
    public var rowName: String { id }
    public var rowTenant: String { id }

    /// Every column: above all the API key's hash, so that nobody holding the database can put in a key of
    /// theirs and read the tenant's results through the API.
    public var integrityEncoding: RowEncoding {
        var encoding = RowEncoding(table: Self.tableName)
        encoding.append(text: "id", id)
        encoding.append(text: "name", name)
        encoding.append(text: "email", email)
        encoding.append(text: "plan", plan)
        encoding.append(bytes: "apiKeyHash", apiKeyHash)
        encoding.append(integer: "createdAt", createdAt)
        return encoding
    }
}

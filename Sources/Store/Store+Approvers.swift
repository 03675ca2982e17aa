import Foundation
import GRDB

extension Store {
    /// The tenant's approvers that are not revoked.
    /// - Throws: ``IntegrityViolation`` when an approver's row does not verify, or none is left because rows were deleted.
    public func approvers(tenant: String) async throws -> [ApproverRecord] {
        try await reporting {
            try await writer.read { [self] db in
                let approvers = try fetchAll(db, ApproverRecord.filter(Column("tenantId") == tenant && Column("revokedAt") == nil).order(Column("createdAt")))
                if approvers.isEmpty { try checkNoApproverDeleted(db, tenant: tenant) }
                return approvers
            }
        }
    }

    /// Whether a passkey must decide for this tenant.
    /// - Throws: ``IntegrityViolation`` when the tenant seems to have none because approver rows were deleted.
    public func hasApprovers(tenant: String) async throws -> Bool {
        try await reporting {
            try await writer.read { [self] db in
                if try ApproverRecord.filter(Column("tenantId") == tenant && Column("revokedAt") == nil).fetchCount(db) > 0 { return true }
                try checkNoApproverDeleted(db, tenant: tenant)
                return false
            }
        }
    }

    /// Creates a tenant and its first approver together: the browser signup.
    public func createTenant(id: String, name: String?, apiKeyHash: Data, approver: ApproverRecord, at now: Int64) async throws {
        try await writer.write { [self] db in
            try insert(db, TenantRecord(id: id, name: name, email: nil, plan: "free", apiKeyHash: apiKeyHash, createdAt: now))
            try insert(db, approver)
            try Self.appendAudit(db, tenant: id, job: nil, event: "tenant.signup", detail: ["name": name ?? "", "approver": approver.credentialId], at: now)
        }
    }

    /// Enrols an approver. With `onlyIfFirst`, only when the tenant has none (claiming an account made
    /// by the SDK, trust on first use), atomically, so two claims cannot both win.
    /// - Returns: `false` when `onlyIfFirst` and the tenant already has an approver.
    public func addApprover(_ approver: ApproverRecord, onlyIfFirst: Bool, at now: Int64) async throws -> Bool {
        try await writer.write { [self] db in
            if onlyIfFirst, try ApproverRecord.filter(Column("tenantId") == approver.tenantId && Column("revokedAt") == nil).fetchCount(db) > 0 {
                return false
            }
            try insert(db, approver)
            try Self.appendAudit(db, tenant: approver.tenantId, job: nil, event: onlyIfFirst ? "approver.claimed" : "approver.enrolled", detail: ["approver": approver.credentialId, "name": approver.name], at: now)
            return true
        }
    }

    /// Revokes an approver; `false` when the tenant has no such active approver.
    public func revokeApprover(credentialId: String, tenant: String, at now: Int64) async throws -> Bool {
        try await reporting { try await writer.write { [self] db in
            guard var approver = try fetchOne(db, ApproverRecord.filter(Column("credentialId") == credentialId && Column("tenantId") == tenant && Column("revokedAt") == nil))
            else { return false }
            approver.revokedAt = now
            try update(db, approver)
            try Self.appendAudit(db, tenant: tenant, job: nil, event: "approver.revoked", detail: ["approver": credentialId], at: now)
            return true
        } }
    }

    /// Replaces the account's agent key: the old one stops working at once.
    public func replaceAPIKey(tenant: String, hash: Data, at now: Int64) async throws {
        try await reporting { try await writer.write { [self] db in
            if var account = try fetchOne(db, TenantRecord.filter(key: tenant)), account.apiKeyHash != nil {
                account.apiKeyHash = hash
                try update(db, account)
            }
            try Self.appendAudit(db, tenant: tenant, job: nil, event: "tenant.agent_key_replaced", detail: [:], at: now)
        } }
    }

    /// Remembers an approver's signature counter.
    public func updateSignCount(credentialId: String, to count: Int64) async throws {
        try await reporting {
            try await writer.write { [self] db in
                guard var approver = try fetchOne(db, ApproverRecord.filter(key: credentialId)) else { return }
                approver.signCount = count
                try update(db, approver)
            }
        }
    }

    /// Stores a challenge for a page, dropping those already expired at `now` (used or not: they can
    /// never be answered), so asking for challenges again and again does not grow the table.
    public func issueChallenge(_ challenge: ConsentChallengeRecord, at now: Int64) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM consentChallenge WHERE expiresAt <= ?", arguments: [now])
            try challenge.insert(db)
        }
    }

    /// Takes a challenge for use, once: `nil` when it does not exist, was used, or expired at `now`.
    public func consumeChallenge(nonce: String, at now: Int64) async throws -> ConsentChallengeRecord? {
        try await writer.write { db in
            guard var challenge = try ConsentChallengeRecord.fetchOne(db, key: nonce), challenge.usedAt == nil, now < challenge.expiresAt else { return nil }
            challenge.usedAt = now
            try challenge.update(db)
            return challenge
        }
    }

    /// Keeps the consents that approved a session's scopes.
    public func setSessionConsent(id: String, consentJSON: String) async throws {
        try await changeSession(id: id) { $0.consentJSON = consentJSON }
    }

    /// Sets a session's expiry and run count (as the approver chose on the scope page).
    public func limitSession(id: String, expiresAt: Int64?, maxRuns: Int?) async throws {
        try await changeSession(id: id) { session in
            session.expiresAt = expiresAt
            session.maxRuns = maxRuns
        }
    }
}

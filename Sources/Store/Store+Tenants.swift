import Foundation
import GRDB

extension Store {
    /// Creates a tenant with an API key hash.
    public func createTenant(id: String, name: String?, email: String?, apiKeyHash: Data, at now: Int64) async throws -> TenantRecord {
        let tenant = TenantRecord(id: id, name: name, email: email, plan: "free", apiKeyHash: apiKeyHash, createdAt: now)
        try await writer.write { [self] db in
            try insert(db, tenant)
            try Self.appendAudit(db, tenant: id, job: nil, event: "tenant.signup", detail: ["name": name ?? ""], at: now)
        }
        return tenant
    }

    /// The tenant whose API key hashes to `hash`.
    public func tenant(apiKeyHash hash: Data) async throws -> TenantRecord? {
        try await reporting { try await writer.read { [self] db in try fetchOne(db, TenantRecord.filter(Column("apiKeyHash") == hash)) } }
    }

    public func tenant(id: String) async throws -> TenantRecord? {
        try await reporting { try await writer.read { [self] db in try fetchOne(db, TenantRecord.filter(key: id)) } }
    }

    /// The tenant an orchestrator's JWT names, created on first sight (no API key: JWT only).
    ///
    /// JWT tenants and API-key tenants live apart: a row that holds an API key hash was made by `/signup`,
    /// and an orchestrator (or anyone holding its secret) must not reach that account's jobs and secrets by
    /// naming its id. The gateway also refuses `tenant_` ids in JWTs, so the two never meet; this check
    /// keeps that true for any id, whoever calls.
    /// - Throws: ``StoreError/tenantHasAPIKey(_:file:line:)`` when `id` is an API-key account.
    public func ensureTenant(id: String, plan: String, at now: Int64) async throws -> TenantRecord {
        try await reporting { try await writer.write { [self] db in
            if var existing = try fetchOne(db, TenantRecord.filter(key: id)) {
                guard existing.apiKeyHash == nil else { throw StoreError.tenantHasAPIKey(id) }
                if existing.plan != plan {
                    existing.plan = plan
                    try update(db, existing)
                }
                return existing
            }
            let tenant = TenantRecord(id: id, name: nil, email: nil, plan: plan, apiKeyHash: nil, createdAt: now)
            try insert(db, tenant)
            try Self.appendAudit(db, tenant: id, job: nil, event: "tenant.jwt_first_seen", detail: ["plan": plan], at: now)
            return tenant
        } }
    }

    /// Counts for `GET /me`.
    public func counts(tenant: String) async throws -> (secrets: Int, jobs: Int) {
        try await writer.read { db in
            (try SecretRecord.filter(Column("tenantId") == tenant).fetchCount(db),
             try JobRecord.filter(Column("tenantId") == tenant).fetchCount(db))
        }
    }
}

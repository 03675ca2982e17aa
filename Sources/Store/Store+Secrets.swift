import Foundation
import GRDB
import Vault

extension Store {
    /// Stores `sealed` as the secret `name` of `tenant`, replacing any previous value and binding. Only
    /// sealed values can be passed: plaintext cannot reach the database through this API.
    /// - Parameter binding: a bound secret's canonical binding, the one `sealed` authenticates; `nil` for an unbound one.
    public func putSecret(_ sealed: SealedSecret, name: String, tenant: String, binding: String? = nil, at now: Int64) async throws {
        try await writer.write { db in
            if var existing = try SecretRecord.fetchOne(db, key: ["tenantId": tenant, "name": name]) {
                existing.sealed = sealed.combined
                existing.updatedAt = now
                existing.binding = binding
                try existing.update(db)
            } else {
                try SecretRecord(tenantId: tenant, name: name, sealed: sealed.combined, createdAt: now, updatedAt: now, binding: binding).insert(db)
            }
            var detail = ["name": name]
            if let binding { detail["binding"] = binding }
            try Self.appendAudit(db, tenant: tenant, job: nil, event: "secret.set", detail: detail, at: now)
        }
    }

    /// Names and dates of the tenant's secrets.
    public func secrets(tenant: String) async throws -> [SecretRecord] {
        try await writer.read { db in
            try SecretRecord.filter(Column("tenantId") == tenant).order(Column("name")).fetchAll(db)
        }
    }

    /// The sealed values of the named secrets that exist, each with its binding (`nil` for an unbound secret).
    public func sealedSecrets(tenant: String, names: [String]) async throws -> [String: (sealed: SealedSecret, binding: String?)] {
        try await writer.read { db in
            let records = try SecretRecord.filter(Column("tenantId") == tenant && names.contains(Column("name"))).fetchAll(db)
            return Dictionary(uniqueKeysWithValues: records.map { ($0.name, (SealedSecret(stored: $0.sealed), $0.binding)) })
        }
    }

    /// Deletes a secret; `false` if there was none.
    public func deleteSecret(name: String, tenant: String, at now: Int64) async throws -> Bool {
        try await writer.write { db in
            let deleted = try SecretRecord.deleteOne(db, key: ["tenantId": tenant, "name": name])
            if deleted { try Self.appendAudit(db, tenant: tenant, job: nil, event: "secret.deleted", detail: ["name": name], at: now) }
            return deleted
        }
    }

    /// The vault canary stored with this database, if any.
    public func vaultCanary() async throws -> (canary: SealedSecret, keySource: String)? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT canary, keySource FROM vaultMeta WHERE id = 1").map {
                (SealedSecret(stored: $0["canary"]), $0["keySource"])
            }
        }
    }

    /// Records the vault canary of a new database.
    public func setVaultCanary(_ canary: SealedSecret, keySource: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO vaultMeta (id, canary, keySource) VALUES (1, ?, ?)", arguments: [canary.combined, keySource])
        }
    }
}

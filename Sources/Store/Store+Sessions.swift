import Foundation
import GRDB

extension Store {
    public func session(id: String, tenant: String) async throws -> SessionRecord? {
        try await writer.read { db in
            try SessionRecord.filter(Column("id") == id && Column("tenantId") == tenant).fetchOne(db)
        }
    }

    /// The tenant's sessions, newest first.
    public func sessions(tenant: String) async throws -> [SessionRecord] {
        try await writer.read { db in
            try SessionRecord.filter(Column("tenantId") == tenant).order(Column("createdAt").desc).fetchAll(db)
        }
    }

    /// Creates the session, or replaces the policy of an existing one of the same tenant.
    public func saveSession(id: String, tenant: String, policyJSON: String, at now: Int64) async throws {
        try await writer.write { db in
            if let owner = try String.fetchOne(db, sql: "SELECT tenantId FROM sessionReservation WHERE id = ?", arguments: [id]), owner != tenant {
                throw StoreError.sessionOfAnotherTenant(id)
            }
            if var existing = try SessionRecord.fetchOne(db, key: id) {
                guard existing.tenantId == tenant else { throw StoreError.sessionOfAnotherTenant(id) }
                existing.policyJSON = policyJSON
                existing.lastActivity = now
                try existing.update(db)
                try Self.appendAudit(db, tenant: tenant, job: nil, event: "session.extended", detail: ["session": id], at: now)
            } else {
                try SessionRecord(id: id, tenantId: tenant, policyJSON: policyJSON, createdAt: now).insert(db)
                try Self.appendAudit(db, tenant: tenant, job: nil, event: "session.created", detail: ["session": id], at: now)
            }
        }
    }

    /// Whether a session id is taken by another tenant (ids are global).
    public func sessionExists(id: String) async throws -> Bool {
        try await writer.read { db in try SessionRecord.fetchOne(db, key: id) != nil }
    }

    /// Stores a scope request that asks for the new session `id`, reserving the id for its tenant in the
    /// same transaction. Session ids are global, so two tenants racing for one id must not both get a
    /// request that can never be approved: the second gets `false` and nothing is stored.
    /// - Returns: `false` when the id is another tenant's (a session or a reservation).
    public func admitScope(_ job: JobRecord, reservingSession id: String, limits: AdmissionLimits) async throws -> Bool {
        try await writer.write { db -> Bool in
            let owner = try String.fetchOne(db, sql: "SELECT tenantId FROM session WHERE id = ?", arguments: [id])
                ?? String.fetchOne(db, sql: "SELECT tenantId FROM sessionReservation WHERE id = ?", arguments: [id])
            if let owner, owner != job.tenantId { return false }
            try Self.admit(db, job, limits: limits)
            if owner == nil {
                try db.execute(sql: "INSERT INTO sessionReservation (id, tenantId, createdAt) VALUES (?, ?, ?)", arguments: [id, job.tenantId, job.createdAt])
            }
            return true
        }
    }

    /// Counts one auto-approved run.
    public func recordSessionUse(id: String, at now: Int64) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE session SET runs = runs + 1, lastActivity = ? WHERE id = ?", arguments: [now, id])
        }
    }

    /// Revokes a session; `false` if the tenant has no such session.
    public func revokeSession(id: String, tenant: String, at now: Int64) async throws -> Bool {
        try await writer.write { db in
            guard var session = try SessionRecord.filter(Column("id") == id && Column("tenantId") == tenant).fetchOne(db) else { return false }
            if session.revokedAt == nil {
                session.revokedAt = now
                try session.update(db)
                try Self.appendAudit(db, tenant: tenant, job: nil, event: "session.revoked", detail: ["session": id], at: now)
            }
            return true
        }
    }
}

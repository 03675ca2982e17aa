import Foundation
import GRDB

extension Store {
    public func session(id: String, tenant: String) async throws -> SessionRecord? {
        try await reporting {
            try await writer.read { [self] db in try fetchOne(db, SessionRecord.filter(Column("id") == id && Column("tenantId") == tenant)) }
        }
    }

    /// The tenant's sessions, newest first.
    public func sessions(tenant: String) async throws -> [SessionRecord] {
        try await reporting {
            try await writer.read { [self] db in try fetchAll(db, SessionRecord.filter(Column("tenantId") == tenant).order(Column("createdAt").desc)) }
        }
    }

    /// Creates the session, or replaces the policy of an existing one of the same tenant.
    public func saveSession(id: String, tenant: String, policyJSON: String, at now: Int64) async throws {
        try await reporting { try await writer.write { [self] db in
            if let owner = try String.fetchOne(db, sql: "SELECT tenantId FROM sessionReservation WHERE id = ?", arguments: [id]), owner != tenant {
                throw StoreError.sessionOfAnotherTenant(id)
            }
            if var existing = try fetchOne(db, SessionRecord.filter(key: id)) {
                guard existing.tenantId == tenant else { throw StoreError.sessionOfAnotherTenant(id) }
                existing.policyJSON = policyJSON
                existing.lastActivity = now
                try update(db, existing)
                try Self.appendAudit(db, tenant: tenant, job: nil, event: "session.extended", detail: ["session": id], at: now)
            } else {
                try insert(db, SessionRecord(id: id, tenantId: tenant, policyJSON: policyJSON, createdAt: now))
                try Self.appendAudit(db, tenant: tenant, job: nil, event: "session.created", detail: ["session": id], at: now)
            }
        } }
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
        try await writer.write { [self] db -> Bool in
            let owner = try String.fetchOne(db, sql: "SELECT tenantId FROM session WHERE id = ?", arguments: [id])
                ?? String.fetchOne(db, sql: "SELECT tenantId FROM sessionReservation WHERE id = ?", arguments: [id])
            if let owner, owner != job.tenantId { return false }
            try admit(db, job, limits: limits)
            if owner == nil {
                try db.execute(sql: "INSERT INTO sessionReservation (id, tenantId, createdAt) VALUES (?, ?, ?)", arguments: [id, job.tenantId, job.createdAt])
            }
            return true
        }
    }

    /// Counts one auto-approved run.
    public func recordSessionUse(id: String, at now: Int64) async throws {
        try await changeSession(id: id) { session in
            session.runs += 1
            session.lastActivity = now
        }
    }

    /// Revokes a session; `false` if the tenant has no such session.
    public func revokeSession(id: String, tenant: String, at now: Int64) async throws -> Bool {
        try await reporting { try await writer.write { [self] db in
            guard var session = try fetchOne(db, SessionRecord.filter(Column("id") == id && Column("tenantId") == tenant)) else { return false }
            if session.revokedAt == nil {
                session.revokedAt = now
                try update(db, session)
                try Self.appendAudit(db, tenant: tenant, job: nil, event: "session.revoked", detail: ["session": id], at: now)
            }
            return true
        } }
    }

    /// Reads the session, checked, applies `change` and writes it back authenticated; nothing when there is none.
    func changeSession(id: String, _ change: @escaping @Sendable (inout SessionRecord) -> Void) async throws {
        try await reporting {
            try await writer.write { [self] db in
                guard var session = try fetchOne(db, SessionRecord.filter(key: id)) else { return }
                change(&session)
                try update(db, session)
            }
        }
    }
}

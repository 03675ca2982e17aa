import Foundation
import PostgresNIO
import Vault

extension PostgresStore {
    // MARK: Tenants

    public func createTenant(id: String, name: String?, email: String?, apiKeyHash: Data, at now: Int64) async throws -> TenantRecord {
        let tenant = TenantRecord(id: id, name: name, email: email, plan: "free", apiKeyHash: apiKeyHash, createdAt: now)
        try await write { transaction in
            try await transaction.insert(tenant, into: "tenant")
            try await self.appendAudit(transaction, tenant: id, job: nil, event: "tenant.signup", detail: ["name": name ?? ""], at: now)
        }
        return tenant
    }

    public func tenant(apiKeyHash hash: Data) async throws -> TenantRecord? {
        try await reporting { try await read { try await $0.record(TenantRecord.self, #"SELECT row_to_json(t)::text FROM tenant t WHERE "apiKeyHash" = \#(hash)"#) } }
    }

    public func tenant(id: String) async throws -> TenantRecord? {
        try await reporting { try await read { try await $0.record(TenantRecord.self, #"SELECT row_to_json(t)::text FROM tenant t WHERE "id" = \#(id)"#) } }
    }

    public func ensureTenant(id: String, plan: String, at now: Int64) async throws -> TenantRecord {
        try await reporting { try await write { transaction in
            if var existing = try await transaction.record(TenantRecord.self, #"SELECT row_to_json(t)::text FROM tenant t WHERE "id" = \#(id) FOR UPDATE"#) {
                guard existing.apiKeyHash == nil else { throw StoreError.tenantHasAPIKey(id) }
                if existing.plan != plan {
                    existing.plan = plan
                    try await transaction.update(existing, in: "tenant", where: "id", is: id)
                }
                return existing
            }
            let tenant = TenantRecord(id: id, name: nil, email: nil, plan: plan, apiKeyHash: nil, createdAt: now)
            try await transaction.insert(tenant, into: "tenant")
            try await self.appendAudit(transaction, tenant: id, job: nil, event: "tenant.jwt_first_seen", detail: ["plan": plan], at: now)
            return tenant
        } }
    }

    public func counts(tenant: String) async throws -> (secrets: Int, jobs: Int) {
        try await read { transaction in
            let row = try await transaction.rows((Int64, Int64).self, """
                SELECT (SELECT COUNT(*) FROM secret WHERE "tenantId" = \(tenant)), (SELECT COUNT(*) FROM job WHERE "tenantId" = \(tenant))
                """).first
            return (Int(row?.0 ?? 0), Int(row?.1 ?? 0))
        }
    }

    // MARK: Approvers and challenges

    public func approvers(tenant: String) async throws -> [ApproverRecord] {
        try await reporting {
            try await read { transaction in
                let approvers = try await transaction.records(ApproverRecord.self, """
                    SELECT row_to_json(a)::text FROM approver a WHERE "tenantId" = \(tenant) AND "revokedAt" IS NULL ORDER BY "createdAt"
                    """)
                if approvers.isEmpty { try await self.checkNoApproverDeleted(transaction, tenant: tenant) }
                return approvers
            }
        }
    }

    public func hasApprovers(tenant: String) async throws -> Bool {
        try await reporting {
            try await read { transaction in
                if try await self.activeApprovers(transaction, tenant: tenant) > 0 { return true }
                try await self.checkNoApproverDeleted(transaction, tenant: tenant)
                return false
            }
        }
    }

    func activeApprovers(_ transaction: Statements, tenant: String) async throws -> Int64 {
        try await transaction.value(Int64.self, #"SELECT COUNT(*) FROM approver WHERE "tenantId" = \#(tenant) AND "revokedAt" IS NULL"#) ?? 0
    }

    public func createTenant(id: String, name: String?, apiKeyHash: Data, approver: ApproverRecord, at now: Int64) async throws {
        try await write { transaction in
            try await transaction.insert(TenantRecord(id: id, name: name, email: nil, plan: "free", apiKeyHash: apiKeyHash, createdAt: now), into: "tenant")
            try await transaction.insert(approver, into: "approver")
            try await self.appendAudit(transaction, tenant: id, job: nil, event: "tenant.signup", detail: ["name": name ?? "", "approver": approver.credentialId], at: now)
        }
    }

    public func addApprover(_ approver: ApproverRecord, onlyIfFirst: Bool, at now: Int64) async throws -> Bool {
        try await write { transaction in
            if onlyIfFirst, try await self.activeApprovers(transaction, tenant: approver.tenantId) > 0 { return false }
            try await transaction.insert(approver, into: "approver")
            try await self.appendAudit(transaction, tenant: approver.tenantId, job: nil, event: onlyIfFirst ? "approver.claimed" : "approver.enrolled",
                                       detail: ["approver": approver.credentialId, "name": approver.name], at: now)
            return true
        }
    }

    public func revokeApprover(credentialId: String, tenant: String, at now: Int64) async throws -> Bool {
        try await reporting { try await write { transaction in
            guard var approver = try await transaction.record(ApproverRecord.self, """
                SELECT row_to_json(a)::text FROM approver a WHERE "credentialId" = \(credentialId) AND "tenantId" = \(tenant) AND "revokedAt" IS NULL FOR UPDATE
                """) else { return false }
            approver.revokedAt = now
            try await transaction.update(approver, in: "approver", where: "credentialId", is: credentialId)
            try await self.appendAudit(transaction, tenant: tenant, job: nil, event: "approver.revoked", detail: ["approver": credentialId], at: now)
            return true
        } }
    }

    public func replaceAPIKey(tenant: String, hash: Data, at now: Int64) async throws {
        try await reporting { try await write { transaction in
            if var account = try await transaction.record(TenantRecord.self, #"SELECT row_to_json(t)::text FROM tenant t WHERE "id" = \#(tenant) FOR UPDATE"#),
               account.apiKeyHash != nil {
                account.apiKeyHash = hash
                try await transaction.update(account, in: "tenant", where: "id", is: tenant)
            }
            try await self.appendAudit(transaction, tenant: tenant, job: nil, event: "tenant.agent_key_replaced", detail: [:], at: now)
        } }
    }

    public func updateSignCount(credentialId: String, to count: Int64) async throws {
        try await reporting { try await write { transaction in
            guard var approver = try await transaction.record(ApproverRecord.self, #"SELECT row_to_json(a)::text FROM approver a WHERE "credentialId" = \#(credentialId) FOR UPDATE"#)
            else { return }
            approver.signCount = count
            try await transaction.update(approver, in: "approver", where: "credentialId", is: credentialId)
        } }
    }

    public func issueChallenge(_ challenge: ConsentChallengeRecord, at now: Int64) async throws {
        try await write { transaction in
            try await transaction.execute(#"DELETE FROM "consentChallenge" WHERE "expiresAt" <= \#(now)"#)
            try await transaction.insert(challenge, into: "consentChallenge")
        }
    }

    /// Single use across replicas: the row is locked, checked and marked used in one transaction.
    public func consumeChallenge(nonce: String, at now: Int64) async throws -> ConsentChallengeRecord? {
        try await write { transaction in
            guard var challenge = try await transaction.record(ConsentChallengeRecord.self, """
                SELECT row_to_json(c)::text FROM "consentChallenge" c WHERE "nonce" = \(nonce) FOR UPDATE
                """), challenge.usedAt == nil, now < challenge.expiresAt else { return nil }
            challenge.usedAt = now
            try await transaction.execute(#"UPDATE "consentChallenge" SET "usedAt" = \#(now) WHERE "nonce" = \#(nonce)"#)
            return challenge
        }
    }

    public func setSessionConsent(id: String, consentJSON: String) async throws {
        try await changeSession(id: id) { $0.consentJSON = consentJSON }
    }

    public func limitSession(id: String, expiresAt: Int64?, maxRuns: Int?) async throws {
        try await changeSession(id: id) { session in
            session.expiresAt = expiresAt
            session.maxRuns = maxRuns
        }
    }

    // MARK: Secrets and the vault canary

    public func putSecret(_ sealed: SealedSecret, name: String, tenant: String, binding: String?, at now: Int64) async throws {
        try await write { transaction in
            try await transaction.execute("""
                INSERT INTO secret ("tenantId", "name", "sealed", "createdAt", "updatedAt", "binding") VALUES (\(tenant), \(name), \(sealed.combined), \(now), \(now), \(binding))
                ON CONFLICT ("tenantId", "name") DO UPDATE SET "sealed" = EXCLUDED."sealed", "updatedAt" = EXCLUDED."updatedAt", "binding" = EXCLUDED."binding"
                """)
            var detail = ["name": name]
            if let binding { detail["binding"] = binding }
            try await self.appendAudit(transaction, tenant: tenant, job: nil, event: "secret.set", detail: detail, at: now)
        }
    }

    public func secrets(tenant: String) async throws -> [SecretRecord] {
        try await read { try await $0.records(SecretRecord.self, #"SELECT row_to_json(s)::text FROM secret s WHERE "tenantId" = \#(tenant) ORDER BY "name""#) }
    }

    public func sealedSecrets(tenant: String, names: [String]) async throws -> [String: (sealed: SealedSecret, binding: String?)] {
        let records = try await read {
            try await $0.records(SecretRecord.self, #"SELECT row_to_json(s)::text FROM secret s WHERE "tenantId" = \#(tenant) AND "name" = ANY(\#(names))"#)
        }
        return Dictionary(uniqueKeysWithValues: records.map { ($0.name, (SealedSecret(stored: $0.sealed), $0.binding)) })
    }

    public func deleteSecret(name: String, tenant: String, at now: Int64) async throws -> Bool {
        try await write { transaction in
            let deleted = try await transaction.values(Int64.self, #"DELETE FROM secret WHERE "tenantId" = \#(tenant) AND "name" = \#(name) RETURNING 1::bigint"#)
            guard !deleted.isEmpty else { return false }
            try await self.appendAudit(transaction, tenant: tenant, job: nil, event: "secret.deleted", detail: ["name": name], at: now)
            return true
        }
    }

    public func vaultCanary() async throws -> (canary: SealedSecret, keySource: String)? {
        try await read { transaction in
            try await transaction.rows((Data, String).self, #"SELECT "canary", "keySource" FROM "vaultMeta" WHERE "id" = 1"#).first
                .map { (SealedSecret(stored: $0.0), $0.1) }
        }
    }

    public func setVaultCanary(_ canary: SealedSecret, keySource: String) async throws {
        try await write {
            try await $0.execute("""
                INSERT INTO "vaultMeta" ("id", "canary", "keySource") VALUES (1, \(canary.combined), \(keySource))
                ON CONFLICT ("id") DO UPDATE SET "canary" = EXCLUDED."canary", "keySource" = EXCLUDED."keySource"
                """)
        }
    }

    // MARK: Sessions

    public func session(id: String, tenant: String) async throws -> SessionRecord? {
        try await reporting { try await read { try await $0.record(SessionRecord.self, #"SELECT row_to_json(s)::text FROM session s WHERE "id" = \#(id) AND "tenantId" = \#(tenant)"#) } }
    }

    public func sessions(tenant: String) async throws -> [SessionRecord] {
        try await reporting { try await read { try await $0.records(SessionRecord.self, #"SELECT row_to_json(s)::text FROM session s WHERE "tenantId" = \#(tenant) ORDER BY "createdAt" DESC"#) } }
    }

    public func saveSession(id: String, tenant: String, policyJSON: String, at now: Int64) async throws {
        try await reporting { try await write { transaction in
            if let owner = try await transaction.value(String.self, #"SELECT "tenantId" FROM "sessionReservation" WHERE "id" = \#(id)"#), owner != tenant {
                throw StoreError.sessionOfAnotherTenant(id)
            }
            if var existing = try await transaction.record(SessionRecord.self, #"SELECT row_to_json(s)::text FROM session s WHERE "id" = \#(id) FOR UPDATE"#) {
                guard existing.tenantId == tenant else { throw StoreError.sessionOfAnotherTenant(id) }
                existing.policyJSON = policyJSON
                existing.lastActivity = now
                try await transaction.update(existing, in: "session", where: "id", is: id)
                try await self.appendAudit(transaction, tenant: tenant, job: nil, event: "session.extended", detail: ["session": id], at: now)
            } else {
                try await transaction.insert(SessionRecord(id: id, tenantId: tenant, policyJSON: policyJSON, createdAt: now), into: "session")
                try await self.appendAudit(transaction, tenant: tenant, job: nil, event: "session.created", detail: ["session": id], at: now)
            }
        } }
    }

    public func sessionExists(id: String) async throws -> Bool {
        try await read { try await $0.value(String.self, #"SELECT "id" FROM session WHERE "id" = \#(id)"#) != nil }
    }

    public func admitScope(_ job: JobRecord, reservingSession id: String, limits: AdmissionLimits) async throws -> Bool {
        try await write { transaction in
            let owner = try await transaction.value(String?.self, """
                SELECT COALESCE((SELECT "tenantId" FROM session WHERE "id" = \(id)), (SELECT "tenantId" FROM "sessionReservation" WHERE "id" = \(id)))
                """) ?? nil
            if let owner, owner != job.tenantId { return false }
            try await self.admit(transaction, job, limits: limits)
            if owner == nil {
                try await transaction.execute(#"INSERT INTO "sessionReservation" ("id", "tenantId", "createdAt") VALUES (\#(id), \#(job.tenantId), \#(job.createdAt))"#)
            }
            return true
        }
    }

    public func recordSessionUse(id: String, at now: Int64) async throws {
        try await changeSession(id: id) { session in
            session.runs += 1
            session.lastActivity = now
        }
    }

    public func revokeSession(id: String, tenant: String, at now: Int64) async throws -> Bool {
        try await reporting { try await write { transaction in
            guard var session = try await transaction.record(SessionRecord.self, """
                SELECT row_to_json(s)::text FROM session s WHERE "id" = \(id) AND "tenantId" = \(tenant) FOR UPDATE
                """) else { return false }
            if session.revokedAt == nil {
                session.revokedAt = now
                try await transaction.update(session, in: "session", where: "id", is: id)
                try await self.appendAudit(transaction, tenant: tenant, job: nil, event: "session.revoked", detail: ["session": id], at: now)
            }
            return true
        } }
    }

    /// Reads the session, checked, applies `change` and writes it back authenticated; nothing when there is none.
    func changeSession(id: String, _ change: @escaping @Sendable (inout SessionRecord) -> Void) async throws {
        try await reporting {
            try await write { transaction in
                guard var session = try await transaction.record(SessionRecord.self, #"SELECT row_to_json(s)::text FROM session s WHERE "id" = \#(id) FOR UPDATE"#)
                else { return }
                change(&session)
                try await transaction.update(session, in: "session", where: "id", is: id)
            }
        }
    }
}

/// The PostgreSQL store answers everything the SQLite one does.
extension PostgresStore: EnclaveStore {}

import GRDB

extension Store {
    /// The schema, one migration per change; never edit a shipped migration.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "tenant") { t in
                t.primaryKey("id", .text)
                t.column("name", .text)
                t.column("email", .text)
                t.column("plan", .text).notNull().defaults(to: "free")
                t.column("apiKeyHash", .blob).unique()
                t.column("createdAt", .integer).notNull()
            }
            try db.create(table: "job") { t in
                t.primaryKey("id", .text)
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade)
                t.column("kind", .text).notNull()
                t.column("skillId", .text)
                t.column("code", .text)
                t.column("codeSHA256", .text)
                t.column("argsJSON", .text)
                t.column("scopeJSON", .text)
                t.column("sessionId", .text)
                t.column("status", .text).notNull()
                t.column("tokenHash", .blob).notNull()
                t.column("tokenExpiresAt", .integer).notNull()
                t.column("approvedBy", .text)
                t.column("approvalDetail", .text)
                t.column("resultJSON", .text)
                t.column("error", .text)
                t.column("outcome", .text)
                t.column("createdAt", .integer).notNull()
                t.column("approvedAt", .integer)
                t.column("executedAt", .integer)
                t.column("completedAt", .integer)
                t.column("updatedAt", .integer).notNull()
            }
            try db.create(index: "job_tenant_created", on: "job", columns: ["tenantId", "createdAt"])
            try db.create(index: "job_status", on: "job", columns: ["status"])
            try db.create(table: "trustedCode") { t in
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade)
                t.column("codeSHA256", .text).notNull()
                t.column("createdAt", .integer).notNull()
                t.primaryKey(["tenantId", "codeSHA256"])
            }
            try db.create(table: "secret") { t in
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("sealed", .blob).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("updatedAt", .integer).notNull()
                t.primaryKey(["tenantId", "name"])
            }
            try db.create(table: "session") { t in
                t.primaryKey("id", .text)
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade)
                t.column("policyJSON", .text).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("lastActivity", .integer).notNull()
                t.column("revokedAt", .integer)
                t.column("expiresAt", .integer)
                t.column("maxRuns", .integer)
                t.column("runs", .integer).notNull().defaults(to: 0)
            }
            try db.create(table: "audit") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("tenantId", .text)
                t.column("jobId", .text)
                t.column("event", .text).notNull()
                t.column("detail", .text).notNull()
                t.column("at", .integer).notNull()
                t.column("previousHash", .text).notNull()
                t.column("hash", .text).notNull()
            }
            try db.create(table: "vaultMeta") { t in
                t.primaryKey("id", .integer)
                t.column("canary", .blob).notNull()
                t.column("keySource", .text).notNull()
            }
        }
        migrator.registerMigration("v2: fair queue, session reservations") { db in
            // The scheduler asks when each tenant's jobs last started, to serve tenants in turn.
            try db.create(index: "job_tenant_executed", on: "job", columns: ["tenantId", "executedAt"])
            // Session ids are global: the first tenant to ask for a new one reserves it, with its scope request.
            try db.create(table: "sessionReservation") { t in
                t.primaryKey("id", .text)
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade)
                t.column("createdAt", .integer).notNull()
            }
        }
        migrator.registerMigration("v3: the audit log's recorded head") { db in
            // One row: the last entry's number and hash, and their seal (NULL until the daemon has its key).
            try db.create(table: "auditHead") { t in
                t.primaryKey("id", .integer).check { $0 == 1 }
                t.column("seq", .integer).notNull()
                t.column("hash", .text).notNull()
                t.column("mac", .text)
            }
            try db.execute(sql: "INSERT INTO auditHead (id, seq, hash, mac) SELECT 1, seq, hash, NULL FROM audit ORDER BY seq DESC LIMIT 1")
        }
        migrator.registerMigration("v4: approvers, consent challenges, consent records") { db in
            // Passkeys enrolled as a tenant's approvers: only a signature by one of these decides for that tenant.
            try db.create(table: "approver") { t in
                t.primaryKey("credentialId", .text)
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("publicKey", .blob).notNull()
                t.column("algorithm", .integer).notNull()
                t.column("signCount", .integer).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("revokedAt", .integer)
            }
            try db.create(index: "approver_tenant", on: "approver", columns: ["tenantId"])
            // Challenges handed to a page, single use and short-lived; the statement is what the passkey must sign.
            try db.create(table: "consentChallenge") { t in
                t.primaryKey("nonce", .text)
                t.column("tenantId", .text)
                t.column("subject", .text).notNull()
                t.column("statementJSON", .text).notNull()
                t.column("expiresAt", .integer).notNull()
                t.column("usedAt", .integer)
            }
            // How each job was approved (the passkey signature, when there is one), for its attested result.
            try db.alter(table: "job") { t in t.add(column: "consentJSON", .text) }
            // Trusted code and sessions keep the consent that created them, and an optional expiry and run count.
            try db.alter(table: "trustedCode") { t in
                t.add(column: "consentJSON", .text)
                t.add(column: "expiresAt", .integer)
                t.add(column: "maxRuns", .integer)
                t.add(column: "runs", .integer).notNull().defaults(to: 0)
            }
            try db.alter(table: "session") { t in t.add(column: "consentJSON", .text) }
        }
        migrator.registerMigration("v5: secret bindings") { db in
            // A bound secret's hosts and placement, as the canonical JSON its sealed value authenticates.
            try db.alter(table: "secret") { t in t.add(column: "binding", .text) }
        }
        migrator.registerMigration("v6: row MACs, plaintext byte counts") { db in
            // The MAC of each row a decision depends on (NULL until the daemon has its key: Store+Integrity).
            for table in ["tenant", "job", "session", "trustedCode", "approver"] {
                try db.alter(table: table) { t in t.add(column: "integrityMAC", .text) }
            }
            // Code and results are sealed at rest: the stored_bytes quota counts their plaintext, kept here.
            try db.alter(table: "job") { t in t.add(column: "plainBytes", .integer).notNull().defaults(to: 0) }
            try db.execute(sql: "UPDATE job SET plainBytes = COALESCE(LENGTH(CAST(code AS BLOB)), 0) + COALESCE(LENGTH(CAST(resultJSON AS BLOB)), 0)")
            // A tenant without an active approver: its enrolments in the audit log are looked up (Store+Integrity).
            try db.create(index: "audit_tenant_event", on: "audit", columns: ["tenantId", "event"])
        }
        return migrator
    }
}

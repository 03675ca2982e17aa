import PostgresNIO

extension PostgresStore {
    /// The schema, one migration per change; never edit a shipped migration. The same tables and meaning
    /// as the SQLite store's (``Store``), column names quoted as the records spell them, plus each job's
    /// lease (`leaseOwner`, `leaseExpiresAt`).
    static let migrations: [(name: String, sql: [String])] = [
        ("v1", [
            """
            CREATE TABLE tenant ("id" text PRIMARY KEY, "name" text, "email" text, "plan" text NOT NULL DEFAULT 'free',
                "apiKeyHash" bytea UNIQUE, "createdAt" bigint NOT NULL)
            """,
            """
            CREATE TABLE job ("id" text PRIMARY KEY, "tenantId" text NOT NULL REFERENCES tenant ("id") ON DELETE CASCADE,
                "kind" text NOT NULL, "skillId" text, "code" text, "codeSHA256" text, "argsJSON" text, "scopeJSON" text,
                "sessionId" text, "status" text NOT NULL, "tokenHash" bytea NOT NULL, "tokenExpiresAt" bigint NOT NULL,
                "approvedBy" text, "approvalDetail" text, "resultJSON" text, "error" text, "outcome" text,
                "createdAt" bigint NOT NULL, "approvedAt" bigint, "executedAt" bigint, "completedAt" bigint,
                "updatedAt" bigint NOT NULL, "consentJSON" text, "leaseOwner" text, "leaseExpiresAt" bigint)
            """,
            #"CREATE INDEX job_tenant_created ON job ("tenantId", "createdAt")"#,
            #"CREATE INDEX job_status ON job ("status")"#,
            #"CREATE INDEX job_tenant_executed ON job ("tenantId", "executedAt")"#,
            """
            CREATE TABLE "trustedCode" ("tenantId" text NOT NULL REFERENCES tenant ("id") ON DELETE CASCADE,
                "codeSHA256" text NOT NULL, "createdAt" bigint NOT NULL, "consentJSON" text, "expiresAt" bigint,
                "maxRuns" bigint, "runs" bigint NOT NULL DEFAULT 0, PRIMARY KEY ("tenantId", "codeSHA256"))
            """,
            """
            CREATE TABLE secret ("tenantId" text NOT NULL REFERENCES tenant ("id") ON DELETE CASCADE, "name" text NOT NULL,
                "sealed" bytea NOT NULL, "createdAt" bigint NOT NULL, "updatedAt" bigint NOT NULL, "binding" text,
                PRIMARY KEY ("tenantId", "name"))
            """,
            """
            CREATE TABLE session ("id" text PRIMARY KEY, "tenantId" text NOT NULL REFERENCES tenant ("id") ON DELETE CASCADE,
                "policyJSON" text NOT NULL, "createdAt" bigint NOT NULL, "lastActivity" bigint NOT NULL, "revokedAt" bigint,
                "expiresAt" bigint, "maxRuns" bigint, "runs" bigint NOT NULL DEFAULT 0, "consentJSON" text)
            """,
            """
            CREATE TABLE "sessionReservation" ("id" text PRIMARY KEY,
                "tenantId" text NOT NULL REFERENCES tenant ("id") ON DELETE CASCADE, "createdAt" bigint NOT NULL)
            """,
            """
            CREATE TABLE audit ("seq" bigserial PRIMARY KEY, "tenantId" text, "jobId" text, "event" text NOT NULL,
                "detail" text NOT NULL, "at" bigint NOT NULL, "previousHash" text NOT NULL, "hash" text NOT NULL)
            """,
            #"CREATE INDEX audit_job ON audit ("jobId")"#,
            #"CREATE TABLE "auditHead" ("id" bigint PRIMARY KEY CHECK ("id" = 1), "seq" bigint NOT NULL, "hash" text NOT NULL, "mac" text)"#,
            #"CREATE TABLE "vaultMeta" ("id" bigint PRIMARY KEY, "canary" bytea NOT NULL, "keySource" text NOT NULL)"#,
            """
            CREATE TABLE approver ("credentialId" text PRIMARY KEY, "tenantId" text NOT NULL REFERENCES tenant ("id") ON DELETE CASCADE,
                "name" text NOT NULL, "publicKey" bytea NOT NULL, "algorithm" bigint NOT NULL, "signCount" bigint NOT NULL,
                "createdAt" bigint NOT NULL, "revokedAt" bigint)
            """,
            #"CREATE INDEX approver_tenant ON approver ("tenantId")"#,
            """
            CREATE TABLE "consentChallenge" ("nonce" text PRIMARY KEY, "tenantId" text, "subject" text NOT NULL,
                "statementJSON" text NOT NULL, "expiresAt" bigint NOT NULL, "usedAt" bigint)
            """,
        ]),
        // The database is not trusted: each row a decision depends on carries the daemon's MAC, and a job
        // counts its plaintext bytes for the quota (its code and result are stored sealed).
        ("v2: row protection", [
            #"ALTER TABLE tenant ADD COLUMN "integrityMAC" text"#,
            #"ALTER TABLE job ADD COLUMN "integrityMAC" text"#,
            #"ALTER TABLE job ADD COLUMN "plainBytes" bigint NOT NULL DEFAULT 0"#,
            #"ALTER TABLE session ADD COLUMN "integrityMAC" text"#,
            #"ALTER TABLE "trustedCode" ADD COLUMN "integrityMAC" text"#,
            #"ALTER TABLE approver ADD COLUMN "integrityMAC" text"#,
            #"CREATE INDEX audit_tenant_event ON audit ("tenantId", "event")"#,
        ]),
    ]

    /// Applies the migrations not applied yet, in order, under ``migrationLock``: replicas starting at once
    /// wait for each other, and each migration runs once.
    static func migrate(_ transaction: Statements) async throws {
        try await transaction.execute("BEGIN")
        do {
            try await transaction.execute("SELECT pg_advisory_xact_lock(\(Self.migrationLock))")
            try await transaction.execute(#"CREATE TABLE IF NOT EXISTS "schemaMigration" ("name" text PRIMARY KEY, "appliedAt" timestamptz NOT NULL DEFAULT now())"#)
            let applied = Set(try await transaction.values(String.self, #"SELECT "name" FROM "schemaMigration""#))
            for migration in Self.migrations where !applied.contains(migration.name) {
                for statement in migration.sql { try await transaction.execute(PostgresQuery(unsafeSQL: statement)) }
                try await transaction.execute(#"INSERT INTO "schemaMigration" ("name") VALUES (\#(migration.name))"#)
                transaction.logger.info("applied a database migration", metadata: ["migration": "\(migration.name)"])
            }
            try await transaction.execute("COMMIT")
        } catch {
            try? await transaction.execute("ROLLBACK")
            throw error
        }
    }
}

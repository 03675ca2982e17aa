import Crypto
import Foundation
import PostgresNIO

extension PostgresStore {
    /// Appends an audit entry inside the caller's write transaction (which holds the write lock, so the
    /// chain never forks), chained and its head recorded and sealed exactly as in the SQLite store
    /// (``Store/chainHash(previous:event:tenant:job:at:detail:)``, ``AuditSeal``).
    func appendAudit(_ transaction: Statements, tenant: String?, job: String?, event: String, detail: [String: String], at: Int64) async throws {
        let last = try await transaction.rows((Int64, String).self, #"SELECT "seq", "hash" FROM audit ORDER BY "seq" DESC LIMIT 1"#).first
        let head = try await transaction.rows((Int64, String, String?).self, #"SELECT "seq", "hash", "mac" FROM "auditHead" WHERE "id" = 1"#).first
        let previous = last?.1 ?? String(repeating: "0", count: 64)
        let detailJSON = Store.canonicalJSON(detail)
        let hash = Store.chainHash(previous: previous, event: event, tenant: tenant, job: job, at: at, detail: detailJSON)
        guard let seq = try await transaction.value(Int64.self, """
            INSERT INTO audit ("tenantId", "jobId", "event", "detail", "at", "previousHash", "hash")
            VALUES (\(tenant), \(job), \(event), \(detailJSON), \(at), \(previous), \(hash)) RETURNING "seq"
            """) else { return }
        let mac = auditSeal.sealNext(seq: seq, hash: hash, head: head.map { (seq: $0.0, hash: $0.1, mac: $0.2) }, last: last.map { (seq: $0.0, hash: $0.1) })
        try await transaction.execute("""
            INSERT INTO "auditHead" ("id", "seq", "hash", "mac") VALUES (1, \(seq), \(hash), \(mac))
            ON CONFLICT ("id") DO UPDATE SET "seq" = EXCLUDED."seq", "hash" = EXCLUDED."hash", "mac" = EXCLUDED."mac"
            """)
    }

    public func audit(job: String) async throws -> [AuditRecord] {
        try await read { try await $0.records(AuditRecord.self, #"SELECT row_to_json(a)::text FROM audit a WHERE "jobId" = \#(job) ORDER BY "seq""#) }
    }

    public func appendAudit(tenant: String?, job: String?, event: String, detail: [String: String], at: Int64) async throws {
        try await write { try await self.appendAudit($0, tenant: tenant, job: job, event: event, detail: detail, at: at) }
    }

    public func sealAudit(with key: SymmetricKey) async throws -> AuditSealing {
        auditSeal.set(key)
        return try await write { transaction in
            guard let head = try await transaction.rows((Int64, String, String?).self, #"SELECT "seq", "hash", "mac" FROM "auditHead" WHERE "id" = 1"#).first
            else { return .alreadySealed }
            if head.2 != nil { return .alreadySealed }
            try await transaction.execute(#"UPDATE "auditHead" SET "mac" = \#(self.auditSeal.mac(seq: head.0, hash: head.1)) WHERE "id" = 1"#)
            return .sealedNow(entries: Int(try await transaction.value(Int64.self, "SELECT COUNT(*) FROM audit") ?? 0))
        }
    }

    public func auditIntegrity() async throws -> AuditIntegrity {
        try await read { transaction in
            // One snapshot for the chain and its head, so an append between the two reads is not a break.
            try await transaction.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            let entries: [AuditRecord], head: (Int64, String, String?)?
            do {
                entries = try await transaction.records(AuditRecord.self, #"SELECT row_to_json(a)::text FROM audit a ORDER BY "seq""#)
                head = try await transaction.rows((Int64, String, String?).self, #"SELECT "seq", "hash", "mac" FROM "auditHead" WHERE "id" = 1"#).first
                try await transaction.execute("COMMIT")
            } catch {
                try? await transaction.execute("ROLLBACK")
                throw error
            }
            return AuditChainCheck.verify(entries: entries, head: head.map { (seq: $0.0, hash: $0.1, mac: $0.2) }, seal: self.auditSeal)
        }
    }
}

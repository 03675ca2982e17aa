import Crypto
import Foundation
import GRDB

extension Store {
    /// Appends an audit entry inside the caller's transaction, chained to the previous entry:
    /// `hash = SHA-256(previousHash LF event LF tenant LF job LF at LF canonical-JSON(detail))`, so removing
    /// or editing an entry breaks every hash after it.
    static func appendAudit(_ db: Database, tenant: String?, job: String?, event: String, detail: [String: String], at: Int64) throws {
        let previous = try String.fetchOne(db, sql: "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1") ?? String(repeating: "0", count: 64)
        let detailJSON = canonicalJSON(detail)
        let hash = chainHash(previous: previous, event: event, tenant: tenant, job: job, at: at, detail: detailJSON)
        try AuditRecord(seq: nil, tenantId: tenant, jobId: job, event: event, detail: detailJSON, at: at, previousHash: previous, hash: hash).insert(db)
    }

    static func chainHash(previous: String, event: String, tenant: String?, job: String?, at: Int64, detail: String) -> String {
        let text = [previous, event, tenant ?? "", job ?? "", String(at), detail].joined(separator: "\n")
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func canonicalJSON(_ detail: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(detail)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// The audit entries of a job, in order.
    public func audit(job: String) async throws -> [AuditRecord] {
        try await writer.read { db in try AuditRecord.filter(Column("jobId") == job).order(Column("seq")).fetchAll(db) }
    }

    /// Appends an audit entry on its own.
    public func appendAudit(tenant: String?, job: String?, event: String, detail: [String: String], at: Int64) async throws {
        try await writer.write { db in try Self.appendAudit(db, tenant: tenant, job: job, event: event, detail: detail, at: at) }
    }

    /// Checks the whole chain; returns the sequence number of the first broken entry, or `nil` if intact.
    public func firstBrokenAuditEntry() async throws -> Int64? {
        try await writer.read { db in
            var previous = String(repeating: "0", count: 64)
            for entry in try AuditRecord.order(Column("seq")).fetchAll(db) {
                let expected = Self.chainHash(previous: previous, event: entry.event, tenant: entry.tenantId, job: entry.jobId, at: entry.at, detail: entry.detail)
                if entry.previousHash != previous || entry.hash != expected { return entry.seq }
                previous = entry.hash
            }
            return nil
        }
    }
}

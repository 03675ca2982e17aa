import Crypto
import Foundation
import GRDB

extension Store {
    /// Appends an audit entry inside the caller's transaction, chained to the previous entry:
    /// `hash = SHA-256(previousHash LF event LF tenant LF job LF at LF canonical-JSON(detail))`, so removing
    /// or editing an entry breaks every hash after it. The chain's head (this entry's number and hash) is
    /// recorded in `auditHead` in the same transaction, sealed with ``AuditSeal`` once a key is set, so
    /// removing the last entries, or rewriting the whole chain consistently, shows too.
    static func appendAudit(_ db: Database, tenant: String?, job: String?, event: String, detail: [String: String], at: Int64) throws {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        let head = try Row.fetchOne(db, sql: "SELECT seq, hash, mac FROM auditHead WHERE id = 1")
        let previous: String = last?["hash"] ?? String(repeating: "0", count: 64)
        let detailJSON = canonicalJSON(detail)
        let hash = chainHash(previous: previous, event: event, tenant: tenant, job: job, at: at, detail: detailJSON)
        try AuditRecord(seq: nil, tenantId: tenant, jobId: job, event: event, detail: detailJSON, at: at, previousHash: previous, hash: hash).insert(db)
        let seq = db.lastInsertedRowID
        // The new head is sealed only on top of an intact sealed head (see AuditSeal.sealNext), so an append
        // never seals over entries removed or rewritten since.
        try db.execute(
            sql: "INSERT OR REPLACE INTO auditHead (id, seq, hash, mac) VALUES (1, ?, ?, \(AuditSeal.functionName)(?, ?, ?, ?, ?, ?, ?))",
            arguments: [seq, hash, seq, hash, head?["seq"] as Int64?, head?["hash"] as String?, head?["mac"] as String?, last?["seq"] as Int64?, last?["hash"] as String?])
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

    /// From now on, seals the audit log's head with `key` (the daemon derives it from the vault key, which
    /// the database's operator does not hold), and seals the current head if it never was.
    ///
    /// A head that was never sealed (a database from before sealing, or one whose seal was removed) is
    /// trusted on first use: the caller says so in its log.
    public func sealAudit(with key: SymmetricKey) async throws -> AuditSealing {
        auditSeal.set(key)
        return try await writer.write { [auditSeal] db in
            guard let head = try Row.fetchOne(db, sql: "SELECT seq, hash, mac FROM auditHead WHERE id = 1") else { return .alreadySealed }
            if (head["mac"] as String?) != nil { return .alreadySealed }
            try db.execute(sql: "UPDATE auditHead SET mac = ? WHERE id = 1", arguments: [auditSeal.mac(seq: head["seq"], hash: head["hash"])])
            return .sealedNow(entries: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") ?? 0)
        }
    }

    /// Checks the whole chain against itself and against its recorded head (and the head's seal, once
    /// ``sealAudit(with:)`` gave this store the key).
    public func auditIntegrity() async throws -> AuditIntegrity {
        try await writer.read { db in
            let entries = try AuditRecord.order(Column("seq")).fetchAll(db)
            var previous = String(repeating: "0", count: 64)
            for entry in entries {
                let expected = Self.chainHash(previous: previous, event: entry.event, tenant: entry.tenantId, job: entry.jobId, at: entry.at, detail: entry.detail)
                if entry.previousHash != previous || entry.hash != expected {
                    return .broken(at: entry.seq ?? 0, reason: "entry \(entry.seq ?? 0) does not chain to the entry before it")
                }
                previous = entry.hash
            }
            let head = try Row.fetchOne(db, sql: "SELECT seq, hash, mac FROM auditHead WHERE id = 1")
            guard let last = entries.last, let lastSeq = last.seq else {
                if let head { return .broken(at: head["seq"], reason: "the log is empty, but its recorded head is entry \(head["seq"] as Int64)") }
                return .intact(entries: 0)
            }
            guard let head else { return .broken(at: lastSeq, reason: "the log's recorded head is missing") }
            let headSeq: Int64 = head["seq"]
            let headHash: String = head["hash"]
            if headSeq > lastSeq {
                let missing = headSeq == lastSeq + 1 ? "entry \(headSeq) is" : "entries \(lastSeq + 1)…\(headSeq) are"
                return .broken(at: lastSeq + 1, reason: "\(missing) missing: the recorded head is entry \(headSeq)")
            }
            if headSeq < lastSeq { return .broken(at: headSeq + 1, reason: "entries after the recorded head (entry \(headSeq)) were added outside the store") }
            if headHash != last.hash { return .broken(at: lastSeq, reason: "entry \(lastSeq) is not the recorded head: the chain was rewritten") }
            if auditSeal.isSet {
                guard let mac: String = head["mac"] else { return .broken(at: headSeq, reason: "the recorded head is not sealed") }
                guard mac == auditSeal.mac(seq: headSeq, hash: headHash) else {
                    return .broken(at: headSeq, reason: "the recorded head's seal does not verify: the head was rewritten")
                }
            }
            return .intact(entries: entries.count)
        }
    }

    /// The audit log's recorded head (its last entry's number and chain hash), `nil` while the log is empty.
    public func auditHead() async throws -> (seq: Int64, hash: String)? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT seq, hash FROM auditHead WHERE id = 1").map { (seq: $0["seq"] as Int64, hash: $0["hash"] as String) }
        }
    }

    /// The sequence number where ``auditIntegrity()`` finds the log broken, or `nil` if it is intact.
    public func firstBrokenAuditEntry() async throws -> Int64? {
        if case .broken(let seq, _) = try await auditIntegrity() { return seq }
        return nil
    }
}

/// What ``Store/sealAudit(with:)`` found.
public enum AuditSealing: Sendable, Hashable {
    /// The head was sealed already (or the log is empty): nothing was trusted on first use.
    case alreadySealed
    /// The head was not sealed; it is now, and the chain of `entries` behind it is trusted as it stands.
    case sealedNow(entries: Int)
}

/// The audit log's state, as ``Store/auditIntegrity()`` finds it.
public enum AuditIntegrity: Sendable, Hashable {
    case intact(entries: Int)
    /// The first entry that is not as it was written (or is missing), and why.
    case broken(at: Int64, reason: String)
}

import Crypto
import Foundation
import GRDB
@testable import Store
import Testing

@Suite("The audit log is a hash chain with a sealed head")
struct AuditChainTests {
    /// A store over a fresh in-memory queue with `count` entries, sealed with `key` when one is given.
    func store(entries count: Int, key: SymmetricKey? = nil) async throws -> (Store, DatabaseQueue) {
        let queue = try DatabaseQueue()
        let store = try Store(queue)
        if let key { #expect(try await store.sealAudit(with: key) == .alreadySealed) }
        for index in 0..<count {
            try await store.appendAudit(tenant: "t", job: "exec_\(index)", event: "job.created", detail: ["n": "\(index)"], at: Int64(index))
        }
        #expect(try await store.auditIntegrity() == .intact(entries: count))
        return (store, queue)
    }

    /// What an operator with write access to the database and none to the enclave's key can do: recompute
    /// every hash of the chain by its documented formula, written out here, and the head's row to match.
    func rewriteConsistently(_ queue: DatabaseQueue, detail: String) async throws {
        try await queue.write { db in
            try db.execute(sql: "UPDATE audit SET detail = ? WHERE seq = 2", arguments: [detail])
            var previous = String(repeating: "0", count: 64)
            for row in try Row.fetchAll(db, sql: "SELECT seq, tenantId, jobId, event, detail, at FROM audit ORDER BY seq") {
                let event: String = row["event"], tenant: String? = row["tenantId"], job: String? = row["jobId"]
                let at: Int64 = row["at"], detail: String = row["detail"]
                let text = [previous, event, tenant ?? "", job ?? "", String(at), detail].joined(separator: "\n")
                let hash = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
                try db.execute(sql: "UPDATE audit SET previousHash = ?, hash = ? WHERE seq = ?", arguments: [previous, hash, row["seq"] as Int64])
                previous = hash
            }
            let last: Int64 = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit")!
            try db.execute(sql: "UPDATE auditHead SET seq = ?, hash = ? WHERE id = 1", arguments: [last, previous])
        }
    }

    @Test("Editing or deleting an entry in the middle is detected at that entry")
    func middle() async throws {
        let (store, queue) = try await store(entries: 5)
        try await queue.write { db in try db.execute(sql: "UPDATE audit SET detail = '{\"n\":\"9\"}' WHERE seq = 3") }
        #expect(try await store.firstBrokenAuditEntry() == 3)
        let (other, otherQueue) = try await self.store(entries: 3)
        try await otherQueue.write { db in try db.execute(sql: "DELETE FROM audit WHERE seq = 2") }
        #expect(try await other.firstBrokenAuditEntry() == 3)
        let (first, firstQueue) = try await self.store(entries: 3)
        try await firstQueue.write { db in try db.execute(sql: "DELETE FROM audit WHERE seq = 1") }
        #expect(try await first.firstBrokenAuditEntry() == 2)
    }

    @Test("Deleting the last entries is detected: the recorded head names an entry the log no longer has")
    func lastEntries() async throws {
        let (store, queue) = try await store(entries: 4)
        try await queue.write { db in try db.execute(sql: "DELETE FROM audit WHERE seq = 4") }
        #expect(try await store.auditIntegrity() == .broken(at: 4, reason: "entry 4 is missing: the recorded head is entry 4"))
        try await queue.write { db in try db.execute(sql: "DELETE FROM audit WHERE seq >= 2") }
        #expect(try await store.firstBrokenAuditEntry() == 2)
        // Deleting the head's row with them is detected too.
        try await queue.write { db in try db.execute(sql: "DELETE FROM auditHead") }
        #expect(try await store.auditIntegrity() == .broken(at: 1, reason: "the log's recorded head is missing"))
    }

    @Test("An append after the last entry was removed (even with its number reused) does not seal over the gap")
    func appendAfterRemoval() async throws {
        let key = SymmetricKey(size: .bits256)
        for reuseNumber in [false, true] {
            let (store, queue) = try await store(entries: 3, key: key)
            try await queue.write { db in
                try db.execute(sql: "DELETE FROM audit WHERE seq = 3")
                if reuseNumber { try db.execute(sql: "UPDATE sqlite_sequence SET seq = 2 WHERE name = 'audit'") }
            }
            try await store.appendAudit(tenant: nil, job: nil, event: "next", detail: [:], at: 9)
            let seq: Int64 = reuseNumber ? 3 : 4
            #expect(try await store.auditIntegrity() == .broken(at: seq, reason: "the recorded head is not sealed"), "reuse \(reuseNumber)")
        }
    }

    @Test("A chain rewritten consistently, head included, is detected by the head's seal; without the key it could not be")
    func consistentRewrite() async throws {
        let key = SymmetricKey(size: .bits256)
        let (store, queue) = try await store(entries: 5, key: key)
        try await rewriteConsistently(queue, detail: #"{"n":"rewritten"}"#)
        // The rewrite is consistent: a store without the key finds nothing wrong with the chain or the head.
        #expect(try await Store(queue).auditIntegrity() == .intact(entries: 5))
        #expect(try await store.auditIntegrity() == .broken(at: 5, reason: "the recorded head's seal does not verify: the head was rewritten"))
        // The daemon's next append does not seal over the rewrite: its head stays unsealed.
        try await store.appendAudit(tenant: nil, job: nil, event: "after", detail: [:], at: 9)
        #expect(try await store.auditIntegrity() == .broken(at: 6, reason: "the recorded head is not sealed"))
        // Removing the seal instead is detected as long as the key is held.
        try await queue.write { db in try db.execute(sql: "UPDATE auditHead SET mac = NULL") }
        #expect(try await store.auditIntegrity() == .broken(at: 6, reason: "the recorded head is not sealed"))
        // Another key's seal does not verify either.
        let other = try Store(queue)
        #expect(try await other.sealAudit(with: SymmetricKey(size: .bits256)) == .sealedNow(entries: 6))
        #expect(try await store.auditIntegrity() == .broken(at: 6, reason: "the recorded head's seal does not verify: the head was rewritten"))
    }

    @Test("An unsealed head (a log from before sealing) is sealed on first use and said so; appends keep it sealed")
    func firstSeal() async throws {
        let (store, queue) = try await store(entries: 3)
        #expect(try await queue.read { db in try Row.fetchOne(db, sql: "SELECT mac FROM auditHead")?["mac"] as String? } == nil)
        let key = SymmetricKey(size: .bits256)
        #expect(try await store.sealAudit(with: key) == .sealedNow(entries: 3))
        #expect(try await store.sealAudit(with: key) == .alreadySealed)
        try await store.appendAudit(tenant: nil, job: nil, event: "e", detail: [:], at: 9)
        let sealed = try Store(queue)
        _ = try await sealed.sealAudit(with: key)
        #expect(try await sealed.auditIntegrity() == .intact(entries: 4))
        // The seal is HMAC-SHA256 over the documented message, computed here.
        let head = try #require(try await queue.read { db in try Row.fetchOne(db, sql: "SELECT seq, hash, mac FROM auditHead") })
        let message = Data("oauth3-enclave/audit-head/v1\u{0}\(head["seq"] as Int64)\u{0}\(head["hash"] as String)".utf8)
        #expect(head["mac"] == HMAC<SHA256>.authenticationCode(for: message, using: key).map { String(format: "%02x", $0) }.joined())
    }

    @Test("A log from before the head existed gets its head from its last entry")
    func migration() async throws {
        let queue = try DatabaseQueue()
        try Store.migrator.migrate(queue, upTo: "v2: fair queue, session reservations")
        try await queue.write { db in
            for index in 0..<3 { try Store.appendAuditWithoutHead(db, event: "old", at: Int64(index)) }
        }
        let store = try Store(queue)
        #expect(try await store.auditIntegrity() == .intact(entries: 3))
        #expect(try await queue.read { db in try Int64.fetchOne(db, sql: "SELECT seq FROM auditHead") } == 3)
    }
}

extension Store {
    /// An append as the store made it before the head existed (the chain only).
    static func appendAuditWithoutHead(_ db: Database, event: String, at: Int64) throws {
        let previous = try String.fetchOne(db, sql: "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1") ?? String(repeating: "0", count: 64)
        let hash = chainHash(previous: previous, event: event, tenant: nil, job: nil, at: at, detail: "{}")
        try AuditRecord(seq: nil, tenantId: nil, jobId: nil, event: event, detail: "{}", at: at, previousHash: previous, hash: hash).insert(db)
    }
}

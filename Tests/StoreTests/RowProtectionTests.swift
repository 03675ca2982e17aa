import Crypto
import Foundation
import GRDB
@testable import Store
import Testing

/// Rows at rest under the row key: sealed columns, MACs, what a change outside the store meets. The store
/// runs over an in-memory queue; every change "outside the daemon" is raw SQL on that queue.
@Suite("Rows are sealed and authenticated: a row changed outside the store is refused")
struct RowProtectionTests {
    static let key = SymmetricKey(data: Array(repeating: UInt8(7), count: 32))
    static let code = "// @skill marker\nconsole.log('code-marker-1234')\n"

    /// A protected store holding a tenant, a queued job, a session, trusted code and an approver.
    func fixture() async throws -> (Store, DatabaseQueue) {
        let queue = try DatabaseQueue()
        let store = try Store(queue)
        #expect(try await store.protectRows(with: Self.key, at: 1) == .protectedNow(rows: 0))
        try await seed(store)
        return (store, queue)
    }

    func seed(_ store: Store) async throws {
        _ = try await store.createTenant(id: "tenant_a", name: "a", email: nil, apiKeyHash: Data(repeating: 1, count: 32), at: 1)
        _ = try await store.createTenant(id: "tenant_b", name: "b", email: nil, apiKeyHash: Data(repeating: 2, count: 32), at: 1)
        for (id, status) in [("exec_a", JobStatus.approved), ("exec_b", .pending)] {
            var job = JobRecord(id: id, tenantId: "tenant_a", kind: "execute", skillId: "marker", code: Self.code, codeSHA256: "c0de",
                                argsJSON: #"{"arg":"args-marker-5678"}"#, scopeJSON: nil, sessionId: nil, status: status,
                                tokenHash: Data(repeating: 3, count: 32), tokenExpiresAt: 10_000, createdAt: 2)
            job.approvedAt = status == .approved ? 3 : nil
            try await store.admit(job, limits: AdmissionLimits(queuedJobs: 10, pendingRequests: 10, activeJobs: 10, storedBytes: 1 << 20))
        }
        try await store.saveSession(id: "session_a", tenant: "tenant_a", policyJSON: #"{"networks":["policy-marker.example"]}"#, at: 4)
        try await store.trust(codeSHA256: "c0de", tenant: "tenant_a", at: 5, maxRuns: 3)
        _ = try await store.addApprover(
            ApproverRecord(credentialId: "cred_a", tenantId: "tenant_a", name: "phone", publicKey: Data(repeating: 4, count: 77), algorithm: -7, signCount: 0, createdAt: 6),
            onlyIfFirst: false, at: 6)
    }

    func violations(_ queue: DatabaseQueue) async throws -> [String] {
        try await queue.read { db in try String.fetchAll(db, sql: "SELECT detail FROM audit WHERE event = 'integrity_violation' ORDER BY seq") }
    }

    @Test("Code, args and policies are sealed at rest, and read back as they were written")
    func sealedAtRest() async throws {
        let (store, queue) = try await fixture()
        let stored = try await queue.read { db in
            try Row.fetchOne(db, sql: "SELECT code, argsJSON, integrityMAC FROM job WHERE id = 'exec_a'")!
        }
        for column in ["code", "argsJSON"] { #expect((stored[column] as String).hasPrefix("o3r1:"), "\(column)") }
        #expect((stored["integrityMAC"] as String).count == 64)
        let policy = try await queue.read { db in try String.fetchOne(db, sql: "SELECT policyJSON FROM session")! }
        #expect(policy.hasPrefix("o3r1:") && !policy.contains("policy-marker"))
        let everything = try await queue.read { db in
            try String.fetchAll(db, sql: "SELECT COALESCE(code, '') || COALESCE(argsJSON, '') FROM job UNION ALL SELECT policyJSON FROM session").joined()
        }
        #expect(!everything.contains("code-marker") && !everything.contains("args-marker"))
        let job = try #require(try await store.job(id: "exec_a", tenant: "tenant_a"))
        #expect(job.code == Self.code && job.argsJSON == #"{"arg":"args-marker-5678"}"#)
        #expect(try await store.session(id: "session_a", tenant: "tenant_a")?.policyJSON == #"{"networks":["policy-marker.example"]}"#)
        #expect(try await store.storedBytes(tenant: "tenant_a") == 2 * Self.code.utf8.count, "the quota counts plaintext, not ciphertext")
    }

    /// One change outside the store, the read that must refuse it, and the row it must name.
    struct Tampering: Sendable, CustomTestStringConvertible {
        let name: String
        let sql: String
        let table: String
        let row: String
        let reason: String
        let read: @Sendable (Store) async throws -> Void
        var testDescription: String { name }
    }

    static let tamperings: [Tampering] = [
        .init(name: "job code swapped for plaintext", sql: "UPDATE job SET code = 'console.log(1)' WHERE id = 'exec_a'",
              table: "job", row: "exec_a", reason: "column code is not sealed") { _ = try await $0.job(id: "exec_a") },
        .init(name: "job code moved from another row", sql: "UPDATE job SET code = (SELECT code FROM job WHERE id = 'exec_b') WHERE id = 'exec_a'",
              table: "job", row: "exec_a", reason: "column code does not open") { _ = try await $0.job(id: "exec_a") },
        .init(name: "job args moved into its code column", sql: "UPDATE job SET code = argsJSON WHERE id = 'exec_a'",
              table: "job", row: "exec_a", reason: "column code does not open") { _ = try await $0.job(id: "exec_a") },
        .init(name: "job code hash changed", sql: "UPDATE job SET codeSHA256 = 'beef' WHERE id = 'exec_a'",
              table: "job", row: "exec_a", reason: "MAC does not verify") { _ = try await $0.job(id: "exec_a") },
        .init(name: "pending job approved in the database", sql: "UPDATE job SET status = 'approved', approvedBy = 'human' WHERE id = 'exec_b'",
              table: "job", row: "exec_b", reason: "MAC does not verify") { _ = try await $0.job(id: "exec_b") },
        .init(name: "job copied to another tenant", sql: "UPDATE job SET tenantId = 'tenant_b' WHERE id = 'exec_a'",
              table: "job", row: "exec_a", reason: "does not open") { _ = try await $0.job(id: "exec_a", tenant: "tenant_b") },
        .init(name: "revoked session re-activated", sql: "UPDATE session SET revokedAt = NULL WHERE id = 'session_a'",
              table: "session", row: "session_a", reason: "MAC does not verify") { store in
                  // Revoked by the store first (the test's SQL then undoes it).
                  _ = try await store.session(id: "session_a", tenant: "tenant_a")
              },
        .init(name: "session run count reset", sql: "UPDATE session SET runs = 0, maxRuns = 100 WHERE id = 'session_a'",
              table: "session", row: "session_a", reason: "MAC does not verify") { _ = try await $0.sessions(tenant: "tenant_a") },
        .init(name: "trusted code inserted", sql: "INSERT INTO trustedCode (tenantId, codeSHA256, createdAt, runs) VALUES ('tenant_a', 'feed', 1, 0)",
              table: "trustedCode", row: "tenant_a/feed", reason: "no MAC") { _ = try await $0.trustedCode(codeSHA256: "feed", tenant: "tenant_a", at: 7) },
        .init(name: "trusted code's run limit lifted", sql: "UPDATE trustedCode SET maxRuns = NULL",
              table: "trustedCode", row: "tenant_a/c0de", reason: "MAC does not verify") { _ = try await $0.trustedCode(codeSHA256: "c0de", tenant: "tenant_a", at: 7) },
        .init(name: "approver's public key swapped", sql: "UPDATE approver SET publicKey = x'0505' WHERE credentialId = 'cred_a'",
              table: "approver", row: "cred_a", reason: "MAC does not verify") { _ = try await $0.approvers(tenant: "tenant_a") },
        .init(name: "approver inserted", sql: "INSERT INTO approver (credentialId, tenantId, name, publicKey, algorithm, signCount, createdAt) VALUES ('cred_x', 'tenant_a', 'x', x'01', -7, 0, 1)",
              table: "approver", row: "cred_x", reason: "no MAC") { _ = try await $0.approvers(tenant: "tenant_a") },
        .init(name: "approver deleted (the token would decide again)", sql: "DELETE FROM approver WHERE credentialId = 'cred_a'",
              table: "approver", row: "cred_a", reason: "the row is missing") { _ = try await $0.hasApprovers(tenant: "tenant_a") },
        .init(name: "tenant's API key hash replaced", sql: "UPDATE tenant SET apiKeyHash = x'09' WHERE id = 'tenant_a'",
              table: "tenant", row: "tenant_a", reason: "MAC does not verify") { _ = try await $0.tenant(apiKeyHash: Data([9])) },
    ]

    @Test("A change outside the store is refused with its table, row and reason, and audited once", arguments: tamperings)
    func tampering(_ tampering: Tampering) async throws {
        let (store, queue) = try await fixture()
        _ = try await store.revokeSession(id: "session_a", tenant: "tenant_a", at: 8)
        try await queue.write { db in try db.execute(sql: tampering.sql) }
        for _ in 0..<2 {
            await #expect { try await tampering.read(store) } throws: { error in
                guard let violation = error as? IntegrityViolation else { return false }
                return violation.table == tampering.table && violation.row == tampering.row && violation.reason.contains(tampering.reason)
                    && "\(violation)".contains("table \(tampering.table), row \(tampering.row)")
            }
        }
        let audited = try await violations(queue)
        #expect(audited.count == 1, "refused twice, audited once: \(audited)")
        #expect(audited.first?.contains(#""row":"\#(tampering.row)""#) == true && audited.first?.contains(#""table":"\#(tampering.table)""#) == true)
    }

    @Test("A queued job whose row was changed ends failed (integrity_violation) exactly once, and is never claimed")
    func tamperedQueuedJob() async throws {
        let (store, queue) = try await fixture()
        try await queue.write { db in try db.execute(sql: "UPDATE job SET code = 'Deno.exit(0)' WHERE id = 'exec_a'") }
        #expect(try await store.claimNextJob(at: 9) { $0.first?.tenantId } == nil)
        let failed = try #require(try await store.job(id: "exec_a"))
        #expect(failed.status == .failed && failed.outcome == "integrity_violation" && failed.code == nil && failed.argsJSON == nil)
        #expect(failed.error == "integrity violation: table job, row exec_a: column code is not sealed (written without the enclave's key); the row was changed outside the enclave and is refused")
        #expect(try await store.claimNextJob(at: 10) { $0.first?.tenantId } == nil)
        #expect(try await violations(queue).count == 1)
        #expect(try await store.auditIntegrity() == .intact(entries: try await queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit")! }))
    }

    @Test("A running job whose row was changed cannot be finished: it ends failed (integrity_violation) instead, and the result is not stored")
    func tamperedRunningJob() async throws {
        let (store, queue) = try await fixture()
        let claimed = try #require(try await store.claimNextJob(at: 9) { $0.first?.tenantId })
        try await queue.write { db in try db.execute(sql: "UPDATE job SET argsJSON = NULL WHERE id = ?", arguments: [claimed.id]) }
        await #expect(throws: IntegrityViolation.self) {
            try await store.transition(claimed.id, from: [.executing], at: 10, event: "job.finished") { job in
                job.status = .completed
                job.resultJSON = "{}"
            }
        }
        let ended = try #require(try await store.job(id: claimed.id))
        #expect(ended.status == .failed && ended.outcome == "integrity_violation" && ended.resultJSON == nil && ended.completedAt == 10)
        #expect(try await store.transition(claimed.id, from: [.executing], at: 11, event: "job.failed") { $0.status = .failed } == nil, "ended once")
    }

    @Test("Plaintext rows are converted on the first start with a key, once; a row without a MAC afterwards is refused")
    func conversion() async throws {
        let queue = try DatabaseQueue()
        try await seed(try Store(queue))  // a daemon from before row protection: plaintext, no MACs
        let before = try await queue.read { db in try String.fetchOne(db, sql: "SELECT code FROM job WHERE id = 'exec_a'") }
        #expect(before == Self.code)

        let store = try Store(queue)
        // 2 tenants, 2 jobs, 1 session, 1 trusted code, 1 approver.
        #expect(try await store.protectRows(with: Self.key, at: 20) == .protectedNow(rows: 7))
        #expect(try await queue.read { db in try String.fetchOne(db, sql: "SELECT code FROM job WHERE id = 'exec_a'") }?.hasPrefix("o3r1:") == true)
        #expect(try await queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job WHERE integrityMAC IS NULL") } == 0)
        #expect(try await store.job(id: "exec_a")?.code == Self.code)
        #expect(try await store.approvers(tenant: "tenant_a").map(\.credentialId) == ["cred_a"])

        try await queue.write { db in
            try db.execute(sql: "INSERT INTO trustedCode (tenantId, codeSHA256, createdAt, runs) VALUES ('tenant_a', 'feed', 1, 0)")
        }
        let again = try Store(queue)
        #expect(try await again.protectRows(with: Self.key, at: 21) == .alreadyProtected, "converted once, never again")
        await #expect(throws: IntegrityViolation.self) { try await again.trustedCode(codeSHA256: "feed", tenant: "tenant_a", at: 22) }
    }

    @Test("No plaintext row is converted while the audit log is broken (its marker may have been removed): those rows are refused")
    func noConversionOverABrokenLog() async throws {
        let queue = try DatabaseQueue()
        try await seed(try Store(queue))
        try await queue.write { db in try db.execute(sql: "UPDATE audit SET detail = '{}' WHERE seq = 1") }
        let store = try Store(queue)
        #expect(try await store.protectRows(with: Self.key, at: 20) == .refused)
        await #expect(throws: IntegrityViolation.self) { try await store.job(id: "exec_a") }
    }

    @Test("A row's MAC is HMAC-SHA256 under HKDF(row key, \"mac\") over the documented encoding")
    func documentedMAC() async throws {
        let (_, queue) = try await fixture()
        let stored = try await queue.read { db in try String.fetchOne(db, sql: "SELECT integrityMAC FROM trustedCode")! }
        // Written out here from docs/design.md, not through RowEncoding.
        func field(_ name: String, _ tag: UInt8, _ value: [UInt8]) -> [UInt8] {
            Array(name.utf8) + [0, tag] + withUnsafeBytes(of: UInt64(value.count).bigEndian, Array.init) + value
        }
        func integer(_ name: String, _ value: Int64) -> [UInt8] { field(name, 2, withUnsafeBytes(of: value.bigEndian, Array.init)) }
        let encoding = field("table", 1, Array("trustedCode".utf8)) + field("tenantId", 1, Array("tenant_a".utf8)) + field("codeSHA256", 1, Array("c0de".utf8))
            + integer("createdAt", 5) + field("consentJSON", 0, []) + field("expiresAt", 0, []) + integer("maxRuns", 3) + integer("runs", 0)
        let macKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: Self.key, info: Data("mac".utf8), outputByteCount: 32)
        let expected = HMAC<SHA256>.authenticationCode(for: Array("oauth3-enclave/row-mac/v1".utf8) + [0] + encoding, using: macKey)
        #expect(stored == expected.map { String(format: "%02x", $0) }.joined())
    }

    @Test("A rollback of the whole database to an earlier copy is not seen by row MACs: the rows verify, only the audit head moved back")
    func rollback() async throws {
        let (store, queue) = try await fixture()
        let earlier = try DatabaseQueue()
        try queue.backup(to: earlier)
        let headBefore = try #require(try await store.auditHead())
        _ = try await store.revokeSession(id: "session_a", tenant: "tenant_a", at: 30)
        #expect(try #require(try await store.auditHead()).seq > headBefore.seq)
        // The operator puts the earlier file back: the session is active again, and nothing in its row says otherwise.
        let rolledBack = try Store(earlier)
        #expect(try await rolledBack.protectRows(with: Self.key, at: 31) == .alreadyProtected)
        #expect(try await rolledBack.session(id: "session_a", tenant: "tenant_a")?.revokedAt == nil)
        #expect(try await rolledBack.auditHead()?.seq == headBefore.seq)
    }

    @Test("Sealing and authenticating a job costs well under a millisecond (measured, docs/benchmarks.md)")
    func cost() async throws {
        let protection = RowProtection()
        protection.set(RowCipher(rowKey: Self.key))
        var job = JobRecord(id: "exec_0123456789abcdef", tenantId: "tenant_a", kind: "execute", skillId: "bench", code: String(repeating: "x", count: 2048),
                            codeSHA256: String(repeating: "a", count: 64), argsJSON: String(repeating: "{}", count: 128), scopeJSON: nil, sessionId: nil,
                            status: .completed, tokenHash: Data(repeating: 1, count: 32), tokenExpiresAt: 1, createdAt: 1)
        job.resultJSON = String(repeating: "r", count: 4096)
        let rounds = 2000
        // CPU time of this thread (the loops never suspend), so that other suites sharing the cores do not count.
        func cpuMicroseconds(_ work: () -> Void) -> Double {
            var start = timespec(), end = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
            work()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
            return (Double(end.tv_sec - start.tv_sec) * 1e6 + Double(end.tv_nsec - start.tv_nsec) / 1e3) / Double(rounds)
        }
        var stored = try protection.stored(job)
        let sealing = cpuMicroseconds { for _ in 0..<rounds { stored = try! protection.stored(job) } }
        var opened = job
        let opening = cpuMicroseconds { for _ in 0..<rounds { opened = try! protection.opened(stored.row, mac: stored.mac) } }
        #expect(opened == job)
        print("row protection, job with 2 KiB code, 256 B args, 4 KiB result (CPU per row): seal+MAC \(sealing) µs, open+verify \(opening) µs")
        #expect(sealing < 1000 && opening < 1000)
    }
}

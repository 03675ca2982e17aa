import Crypto
import Foundation
@testable import Store
import TestSupport
import Testing

/// Row protection in the PostgreSQL store: the same seals and MACs as SQLite's (``RowProtectionTests``),
/// and a row changed in the database, by SQL that did not come from a replica, is refused. The changes
/// are made with `psql` on the test server, as a database operator would.
@Suite("PostgreSQL rows are sealed and authenticated: a row changed outside the replicas is refused",
       .enabled(if: PostgresServer.binaries != nil, "PostgreSQL is not installed: `make setup` installs it"))
struct PostgresRowProtectionTests {
    static let code = "// @skill marker\nconsole.log('code-marker-1234')\n"

    /// A protected store (a fresh database) holding two tenants, a queued and a pending job, a session and trusted code.
    func fixture() async throws -> (PostgresStore, url: String) {
        let url = try await PostgresServer.shared().makeDatabase()
        let store = try await PostgresStore.connect(try DatabaseURL(url))
        #expect(try await store.protectRows(with: RowProtectionTests.key, at: 1) == .protectedNow(rows: 0))
        try await seed(store)
        return (store, url)
    }

    func seed(_ store: PostgresStore) async throws {
        _ = try await store.createTenant(id: "tenant_a", name: "a", email: nil, apiKeyHash: Data(repeating: 1, count: 32), at: 1)
        _ = try await store.createTenant(id: "tenant_b", name: "b", email: nil, apiKeyHash: Data(repeating: 2, count: 32), at: 1)
        for (id, status) in [("exec_a", JobStatus.approved), ("exec_b", .pending)] {
            try await store.admit(QueueBehaviourTests.job(id, tenant: "tenant_a", status: status, code: Self.code + "// \(id)\n", at: 2),
                                  limits: QueueBehaviourTests.roomy)
        }
        try await store.saveSession(id: "session_a", tenant: "tenant_a", policyJSON: #"{"networks":["policy-marker.example"]}"#, at: 4)
        try await store.trust(codeSHA256: "c0de", tenant: "tenant_a", at: 5, consentJSON: nil, expiresAt: nil, maxRuns: 3)
    }

    /// Runs `sql` with `psql` against the database at `url`; returns what it printed (unaligned, tuples only).
    func psql(_ url: String, _ sql: String) async throws -> String {
        let binaries = try #require(PostgresServer.binaries)
        let result = try await Fixture.execute(binaries + "/psql", [url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        #expect(result.status == 0, "\(sql): \(result.err)")
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func violations(_ url: String) async throws -> [String] {
        try await psql(url, #"SELECT "detail" FROM audit WHERE "event" = 'integrity_violation' ORDER BY "seq""#)
            .split(separator: "\n").map(String.init)
    }

    @Test("Code, args and policies are sealed at rest and read back as written; the quota counts plaintext")
    func sealedAtRest() async throws {
        let (store, url) = try await fixture()
        let code = try await psql(url, #"SELECT "code" FROM job WHERE "id" = 'exec_a'"#)
        let mac = try await psql(url, #"SELECT "integrityMAC" FROM job WHERE "id" = 'exec_a'"#)
        #expect(code.hasPrefix("o3r1:") && !code.contains("code-marker"))
        #expect(mac.count == 64)
        #expect(try await psql(url, #"SELECT "policyJSON" FROM session"#).hasPrefix("o3r1:"))
        #expect(try await store.job(id: "exec_a")?.code == Self.code + "// exec_a\n")
        #expect(try await store.session(id: "session_a", tenant: "tenant_a")?.policyJSON == #"{"networks":["policy-marker.example"]}"#)
        #expect(try await store.storedBytes(tenant: "tenant_a") == 2 * (Self.code + "// exec_a\n").utf8.count)
        await store.close()
    }

    @Test("Code moved from another row is refused on read and at the claim, where the job ends failed once, audited")
    func codeSwapped() async throws {
        let (store, url) = try await fixture()
        _ = try await psql(url, #"UPDATE job SET "code" = (SELECT "code" FROM job WHERE "id" = 'exec_b') WHERE "id" = 'exec_a'"#)
        await #expect(throws: IntegrityViolation.self) { try await store.job(id: "exec_a") }
        #expect(try await store.claimNextJob(at: 50) { $0.first?.tenantId } == nil, "the tampered job never runs")
        let job = try #require(try await store.job(id: "exec_a"))
        #expect(job.status == .failed && job.outcome == "integrity_violation" && job.code == nil)
        #expect(try await store.claimNextJob(at: 51) { $0.first?.tenantId } == nil)
        let audited = try await violations(url)
        #expect(audited.count == 2, "one for the refused read, one for the job ended: \(audited)")
        #expect(audited.allSatisfy { $0.contains("exec_a") })
        await store.close()
    }

    @Test("A revoked session re-activated, trusted code inserted, a planted API key: each refused with its table")
    func otherTables() async throws {
        let (store, url) = try await fixture()
        #expect(try await store.revokeSession(id: "session_a", tenant: "tenant_a", at: 10))
        _ = try await psql(url, #"UPDATE session SET "revokedAt" = NULL WHERE "id" = 'session_a'"#)
        await #expect(throws: IntegrityViolation.self) { try await store.session(id: "session_a", tenant: "tenant_a") }

        _ = try await psql(url, #"INSERT INTO "trustedCode" ("tenantId", "codeSHA256", "createdAt", "runs") VALUES ('tenant_a', 'evil', 1, 0)"#)
        await #expect(throws: IntegrityViolation.self) { try await store.trustedCode(codeSHA256: "evil", tenant: "tenant_a", at: 10) }
        _ = try await psql(url, #"UPDATE "trustedCode" SET "maxRuns" = NULL WHERE "codeSHA256" = 'c0de'"#)
        await #expect(throws: IntegrityViolation.self) { try await store.recordTrustedUse(codeSHA256: "c0de", tenant: "tenant_a") }

        _ = try await psql(url, #"UPDATE tenant SET "apiKeyHash" = '\x0909090909090909090909090909090909090909090909090909090909090909' WHERE "id" = 'tenant_b'"#)
        await #expect(throws: IntegrityViolation.self) { try await store.tenant(apiKeyHash: Data(repeating: 9, count: 32)) }

        let tables = try await violations(url).joined()
        for table in [SessionRecord.tableName, TrustedCodeRecord.tableName, TenantRecord.tableName] { #expect(tables.contains(table)) }
        await store.close()
    }

    @Test("Rows written before a key are converted once, and a second replica finds them protected")
    func conversion() async throws {
        let url = try await PostgresServer.shared().makeDatabase()
        let first = try await PostgresStore.connect(try DatabaseURL(url))
        try await seed(first)
        #expect(try await psql(url, #"SELECT "code" FROM job WHERE "id" = 'exec_a'"#).contains("code-marker"), "plaintext before the key")
        #expect(try await first.protectRows(with: RowProtectionTests.key, at: 20) == .protectedNow(rows: 6))
        #expect(try await psql(url, #"SELECT "code" FROM job WHERE "id" = 'exec_a'"#).hasPrefix("o3r1:"))
        let second = try await PostgresStore.connect(try DatabaseURL(url))
        #expect(try await second.protectRows(with: RowProtectionTests.key, at: 21) == .alreadyProtected)
        #expect(try await second.job(id: "exec_a")?.code == Self.code + "// exec_a\n")
        #expect(try await second.trustedCode(codeSHA256: "c0de", tenant: "tenant_a", at: 22)?.maxRuns == 3)
        await first.close()
        await second.close()
    }
}

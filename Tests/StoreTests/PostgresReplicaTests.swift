import Foundation
import Store
import Synchronization
import TestSupport
import Testing

/// What only PostgreSQL has: several daemons (replicas) on one database. Each store here is a replica of
/// its own, with its own connections, as two daemons would be.
@Suite("PostgreSQL replicas: migrations, leases, change notifications, the URL's password", .enabled(if: PostgresServer.binaries != nil, "PostgreSQL is not installed: `make setup` installs it"))
struct PostgresReplicaTests {
    static func replicas(_ count: Int, lease: Duration = .seconds(30)) async throws -> [PostgresStore] {
        let url = try DatabaseURL(try await PostgresServer.shared().makeDatabase())
        // Started together: the migration lock lets one migrate and the others wait.
        return try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for index in 0..<count { group.addTask { try await PostgresStore.connect(url, replica: "r\(index)", lease: lease) } }
            return try await group.reduce(into: []) { $0.append($1) }.sorted { $0.replica < $1.replica }
        }
    }

    @Test("Replicas starting at once migrate once, and each claim goes to exactly one replica")
    func claimsAcrossReplicas() async throws {
        let replicas = try await Self.replicas(3)
        let (a, b, c) = (replicas[0], replicas[1], replicas[2])
        _ = try await a.ensureTenant(id: "t1", plan: "free", at: 1)
        for index in 0..<6 { try await b.admit(QueueBehaviourTests.job("exec_\(index)", at: Int64(index)), limits: QueueBehaviourTests.roomy) }
        let claims = try await withThrowingTaskGroup(of: (String, String?).self) { group in
            for replica in replicas {
                for _ in 0..<4 { group.addTask { (replica.replica, try await replica.claimNextJob(at: 100) { $0.first?.tenantId }?.id) } }
            }
            return try await group.reduce(into: [(String, String?)]()) { $0.append($1) }
        }
        let taken = claims.compactMap(\.1)
        #expect(taken.sorted() == (0..<6).map { "exec_\($0)" })
        #expect(try await c.queuedJobCount() == 0)
        #expect(try await c.auditIntegrity() == .intact(entries: 13))
        for replica in replicas { await replica.close() }
    }

    @Test("A job whose replica died is interrupted once, by whichever replica notices, and never claimed again")
    func expiredLease() async throws {
        let replicas = try await Self.replicas(3, lease: .milliseconds(600))
        let (dead, b, c) = (replicas[0], replicas[1], replicas[2])
        _ = try await b.ensureTenant(id: "t1", plan: "free", at: 1)
        try await b.admit(QueueBehaviourTests.job("exec_1"), limits: QueueBehaviourTests.roomy)
        let start = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(try await dead.claimNextJob(at: start) { $0.first?.tenantId }?.id == "exec_1")
        // While the replica lives, its lease is renewed: past the first expiry nobody may interrupt the job.
        try await Task.sleep(for: .milliseconds(1200))
        #expect(try await b.interruptExpiredLeases(at: Int64(Date().timeIntervalSince1970 * 1000)) == [])
        await dead.close()  // stops renewing, as a killed daemon would
        try await Task.sleep(for: .milliseconds(900))
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        async let byB = b.interruptExpiredLeases(at: now)
        async let byC = c.interruptExpiredLeases(at: now)
        let noticed = try await [byB, byC]
        #expect(noticed.flatMap { $0 } == ["exec_1"])
        let job = try #require(try await c.job(id: "exec_1"))
        #expect(job.status == .failed && job.outcome == "interrupted")
        #expect(try await c.audit(job: "exec_1").map(\.event) == ["job.created", "job.started", "job.interrupted"])
        #expect(try await b.claimNextJob(at: now) { $0.first?.tenantId } == nil)
        // The dead replica's late result cannot overwrite the record.
        #expect(try await b.transition("exec_1", from: [.executing], at: now, event: "job.finished") { $0.status = .completed } == nil)
        for replica in [b, c] { await replica.close() }
    }

    @Test("A replica hears every job change another makes, and not its own")
    func notifications() async throws {
        let replicas = try await Self.replicas(2)
        let (a, b) = (replicas[0], replicas[1])
        let heard = Mutex<[String]>([])
        let listening = Task { await b.followJobChanges { id in heard.withLock { $0.append(id) } } }
        _ = try await a.ensureTenant(id: "t1", plan: "free", at: 1)
        // LISTEN starts when the feed's connection is up, which nothing signals: admit distinct jobs at A until
        // B hears one. Each is a change of A's; B's own admissions in between must never be heard.
        var sent: [String] = []
        for index in 0..<100 where heard.withLock({ $0.isEmpty }) {
            sent.append("exec_\(index)")
            try await a.admit(QueueBehaviourTests.job("exec_\(index)", status: .pending), limits: QueueBehaviourTests.roomy)
            try await b.admit(QueueBehaviourTests.job("own_\(index)", status: .pending), limits: QueueBehaviourTests.roomy)
            try? await waitUntil("B hears a change", within: .milliseconds(100)) { !heard.withLock { $0.isEmpty } }
        }
        let first = try #require(heard.withLock { $0.first })
        let last = try #require(sent.last)
        #expect(sent.contains(first) && heard.withLock { $0.allSatisfy(sent.contains) }, "only A's changes are heard")
        heard.withLock { $0.removeAll() }
        _ = try await a.transition(last, from: [.pending], at: 5, event: "job.approved") { $0.status = .approved }
        try await b.admit(QueueBehaviourTests.job("own_last", status: .pending), limits: QueueBehaviourTests.roomy)
        _ = try await a.transition(last, from: [.approved], at: 6, event: "job.denied") { $0.status = .denied }
        try await waitUntil("B hears A's two changes") { heard.withLock { $0.count } >= 2 }
        #expect(heard.withLock { $0 } == [last, last], "A's two changes, and none of B's own")
        listening.cancel()
        await listening.value
        for replica in replicas { await replica.close() }
    }

    @Test("The URL's password is never printed: not by the URL, not when it is malformed, not when the server refuses it")
    func password() async throws {
        let server = try await PostgresServer.shared()
        let text = try await server.makeDatabase()
        let url = try DatabaseURL(text)
        #expect(url.password == server.password)
        #expect(!url.description.contains(server.password) && url.description.contains(":***@127.0.0.1:\(server.port)/"))
        for malformed in ["mysql://u:hunter2secret@h/d", "postgres://u:hunter2secret@h", "postgres://u:hunter2secret@h/d?sslmode=maybe", "postgres://:hunter2secret@h/d"] {
            #expect { try DatabaseURL(malformed) } throws: { !"\($0)".contains("hunter2secret") && !"\($0)".isEmpty }
        }
        let wrong = try DatabaseURL(text.replacingOccurrences(of: "oauth3:", with: "nobody:"))
        await #expect { try await PostgresStore.connect(wrong) } throws: { !String(reflecting: $0).contains(server.password) }
    }
}

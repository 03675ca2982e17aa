import Crypto
import Foundation
import Gateway
import OAuth3Client
import OAuth3Wire
import Store
import TestSupport
import Vault
import Testing

@Suite("Every accepted job reaches a final state, across restarts", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct DurabilityTests {
    @Test("The store's commits are synced to disk (synchronous FULL on the writer, not the NORMAL GRDB's WAL pool sets)")
    func commitsAreSynced() throws {
        let store = try Store.open(path: Fixture.workRoot() + "/enclave.sqlite")
        #expect(try store.synchronousMode() == 2)
    }

    @Test("A restart during a running job leaves it failed/interrupted; approved jobs that had not started run; secrets survive")
    func restart() async throws {
        let directory = Fixture.workRoot()
        let daemon = try await LiveDaemon.start(dataDirectory: directory) { $0.workers = 1 }
        let (agent, _) = try await daemon.tenant()
        try await agent.putSecret("API_TOKEN", value: "kept-across-restarts")
        let slow = "// @skill slow\n// @timeout 60\nconsole.log('started'); await new Promise((r) => setTimeout(r, 30000))\n"
        let running = try await agent.execute(.init(skillCode: slow))
        try await approve(daemon, running, level: "trust_code")
        let queued = try await agent.execute(.init(skillCode: withSecret))
        try await approve(daemon, queued)
        try await waitUntil("the slow job runs") { try await agent.status(running.requestId).status == "executing" }
        #expect(try await agent.status(queued.requestId).status == "approved")

        // A crash: the state as a killed daemon leaves it (running job still `executing`).
        await daemon.stop()  // graceful stop marks it interrupted itself; reset it to what a crash leaves
        let store = try Store.open(path: directory + "/enclave.sqlite")
        // Rows are authenticated: this store writes them as the daemon does, with its row key.
        _ = try await store.protectRows(with: daemon.service.vault.derivedKey(for: JobService.rowKeyPurpose), at: 0)
        _ = try await store.transition(running.requestId, from: [.failed], at: 0, event: "test.crash") { $0.status = .executing; $0.error = nil }
        _ = try await store.transition(queued.requestId, from: [.approved], at: 0, event: "test.crash") { $0.status = .approved }

        let restarted = try await LiveDaemon.start(dataDirectory: directory) { $0.workers = 1 }
        let client = restarted.client(agent.apiKey)
        let interrupted = try await client.status(running.requestId)
        #expect(interrupted.status == "failed" && interrupted.error?.hasPrefix("interrupted") == true)
        let resumed = try await client.poll(queued.requestId, timeout: .seconds(60))
        #expect(resumed.status == "completed")
        #expect(resumed.result?.claims.run.stdout == "token [REDACTED:API_TOKEN] 20\n")
        #expect(try await store.firstBrokenAuditEntry() == nil)
    }

    @Test("Graceful shutdown stops a running job, records it as interrupted, and leaves no process")
    func gracefulShutdown() async throws {
        let daemon = try await LiveDaemon.start { $0.shutdownGraceSeconds = 1 }
        let (agent, _) = try await daemon.tenant()
        let marker = "marker-\(UUID().uuidString)"
        try await agent.putSecret("MARK", value: marker)
        let job = try await agent.execute(.init(skillCode: "// @skill forever\n// @secrets MARK\n// @timeout 120\nfor (;;) {}\n"))
        try await approve(daemon, job)
        // Deno holds the marker in its environment once the job runs.
        try await waitUntil("the job's Deno runs") { !Fixture.processes(withEnvironmentContaining: marker).isEmpty }
        await daemon.stop()
        let store = try Store.open(path: daemon.dataDirectory + "/enclave.sqlite")
        let record = try #require(try await store.job(id: job.requestId))
        #expect(record.status == .failed && record.outcome == "interrupted", "\(record.status) \(record.outcome ?? "")")
        #expect(await Fixture.processesLeft(withEnvironmentContaining: marker).isEmpty)
    }

    @Test("A database copied to a daemon whose guest agent has another seed cannot read secrets: it refuses to start")
    func otherSeed() async throws {
        let directory = Fixture.workRoot()
        let first = try await LiveDaemon.start(dataDirectory: directory)
        let (agent, _) = try await first.tenant()
        try await agent.putSecret("API_TOKEN", value: "v")
        await first.stop()
        let copy = Fixture.workRoot()
        for file in ["enclave.sqlite", "enclave.sqlite-wal", "enclave.sqlite-shm"] where FileManager.default.fileExists(atPath: directory + "/" + file) {
            try FileManager.default.copyItem(atPath: directory + "/" + file, toPath: copy + "/" + file)
        }
        await #expect { try await LiveDaemon.start(dataDirectory: copy, seed: Array(repeating: 7, count: 32)) } throws: { error in
            "\(error)".contains("sealed under another vault key")
        }
        // The same data directory (same seed) restarts and reads them.
        let again = try await LiveDaemon.start(dataDirectory: directory)
        await again.stop()
    }
}

import Foundation
@testable import Gateway
import OAuth3Client
import OAuth3Wire
import Store
import TestSupport
import Testing

@Suite("Workers serve tenants in turn")
struct FairShareTests {
    func state(_ tenant: String, waiting: Int, running: Int, oldest: Int64? = 0, lastStarted: Int64? = nil) -> TenantQueueState {
        TenantQueueState(tenantId: tenant, waiting: waiting, oldestApprovedAt: waiting > 0 ? oldest : nil, running: running, lastStartedAt: lastStarted)
    }

    @Test("A tenant alone may use every worker")
    func alone() {
        #expect(FairShare(tenantCap: 1).choose([state("a", waiting: 5, running: 3)]) == "a")
    }

    @Test("With two tenants active, one at its cap is passed over, and the other is served")
    func capped() {
        let share = FairShare(tenantCap: 1)
        #expect(share.choose([state("a", waiting: 5, running: 1), state("b", waiting: 1, running: 0, oldest: 99)]) == "b")
        // Over the cap (it started its jobs while alone): nobody of it starts; the other still does.
        #expect(share.choose([state("a", waiting: 5, running: 2), state("b", waiting: 0, running: 1)]) == nil)
        #expect(share.choose([state("a", waiting: 5, running: 2), state("b", waiting: 1, running: 0)]) == "b")
    }

    @Test("Among equals, the tenant served least recently goes first, not the one that queued first")
    func roundRobin() {
        let share = FairShare(tenantCap: 2)
        let a = state("a", waiting: 9, running: 0, oldest: 1, lastStarted: 500)
        let b = state("b", waiting: 9, running: 0, oldest: 400, lastStarted: 300)
        #expect(share.choose([a, b]) == "b")
        let never = state("c", waiting: 1, running: 0, oldest: 999, lastStarted: nil)
        #expect(share.choose([a, b, never]) == "c")
        // Fewer running beats recency.
        #expect(share.choose([state("a", waiting: 1, running: 0, lastStarted: 900), state("b", waiting: 1, running: 1, lastStarted: 1)]) == "a")
    }

    @Test("The default cap leaves a worker for another tenant")
    func defaults() {
        #expect(FairShare.defaultCap(workers: 1) == 1)
        #expect(FairShare.defaultCap(workers: 2) == 1)
        #expect(FairShare.defaultCap(workers: 8) == 7)
    }
}

@Suite("One tenant's long jobs cannot hold every worker", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct FairSchedulingTests {
    @Test("With 2 workers and one tenant flooding long jobs, another tenant's job starts within one job slot and completes")
    func floodedByOne() async throws {
        let daemon = try await LiveDaemon.start { $0.workers = 2; $0.quotas.activeJobs = 64 }
        let (flooder, _) = try await daemon.tenant("flooder")
        let (patient, _) = try await daemon.tenant("patient")
        let long = "// @skill long\n// @timeout 60\nawait new Promise((r) => setTimeout(r, 2500)); console.log('long')\n"
        let first = try await flooder.execute(.init(skillCode: long))
        try await approve(daemon, first, level: "trust_code")
        var flood = [first.requestId]
        for _ in 0..<5 { flood.append(try await flooder.execute(.init(skillCode: long)).requestId) }
        // The flooder was alone: it holds both workers now.
        while try await daemon.service.store.queueState().first(where: { $0.running > 0 })?.running ?? 0 < 2 {
            try await Task.sleep(for: .milliseconds(50))
        }
        let quick = try await patient.execute(.init(skillCode: hello))
        try await approve(daemon, quick, level: "trust_code")
        let done = try await patient.poll(quick.requestId, timeout: .seconds(60))
        #expect(done.status == "completed")

        // It started as soon as the first of the flooder's jobs ended: before the flooder's third.
        let store = daemon.service.store
        let started = try #require(try await store.job(id: quick.requestId)?.executedAt)
        var flooderStarts: [Int64] = []
        for id in flood { if let at = try await store.job(id: id)?.executedAt { flooderStarts.append(at) } }
        flooderStarts.sort()
        #expect(flooderStarts.count >= 2)
        #expect(flooderStarts.count < 3 || started <= flooderStarts[2], "quick started at \(started), the flooder's at \(flooderStarts)")
        for id in flood { #expect(try await flooder.poll(id, timeout: .seconds(60)).status == "completed") }
    }
}

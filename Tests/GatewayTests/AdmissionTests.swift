import Foundation
@testable import Gateway
import OAuth3Client
import OAuth3Wire
import Store
import TestSupport
import Testing

/// A skill that takes a while, so that work piles up behind the workers.
let napping = """
    // @skill napping
    // @timeout 30
    await new Promise((r) => setTimeout(r, 300))
    console.log("rested")
    """

@Suite("Accepted means it runs: admission is atomic, quotas refuse with 429 and their name", .serialized, .timeLimit(.minutes(5)), .stopsDaemons)
struct AdmissionTests {
    @Test("Concurrent submissions at a small queue limit: every 201 reaches a final state, every 429 left nothing behind")
    func concurrentSubmissions() async throws {
        let daemon = try await LiveDaemon.start { $0.workers = 2; $0.queueLimit = 4; $0.quotas.activeJobs = 64 }
        var tenants: [(client: OAuth3Client, tenantId: String)] = []
        for name in ["orchestrated-a", "orchestrated-b", "orchestrated-c"] {
            let tenant = try await daemon.tenant(name)
            let first = try await tenant.client.execute(.init(skillCode: napping))
            try await approve(daemon, first, level: "trust_code")
            #expect(try await tenant.client.poll(first.requestId, timeout: .seconds(60)).status == "completed")
            tenants.append(tenant)
        }

        // 60 submissions of trusted code, 12 at a time: far more than 2 workers and 4 queue places take.
        typealias Outcome = (tenant: Int, accepted: String?, refusedBy: String?)
        let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
            var outcomes: [Outcome] = []
            for index in 0..<60 {
                if index >= 12, let outcome = try await group.next() { outcomes.append(outcome) }
                let tenant = index % tenants.count
                let client = tenants[tenant].client
                group.addTask {
                    let reply = try await submitRaw(daemon, client: client, code: napping)
                    switch reply.status {
                    case 201: return (tenant, try JSONDecoder().decode(ExecutionStatus.self, from: Data(reply.body.utf8)).requestId, nil)
                    case 429:
                        #expect(reply.headers["retry-after"] != nil, "a 429 without Retry-After: \(reply.body)")
                        return (tenant, nil, try JSONDecoder().decode(ErrorBody.self, from: Data(reply.body.utf8)).quota)
                    default:
                        Issue.record("unexpected \(reply.status): \(reply.body)")
                        return (tenant, nil, nil)
                    }
                }
            }
            for try await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        let accepted = outcomes.filter { $0.accepted != nil }
        let refusals = outcomes.compactMap(\.refusedBy)
        #expect(accepted.count + refusals.count == 60)
        #expect(refusals.count > 0 && Set(refusals) == ["queue"], "refusals: \(refusals)")
        #expect(accepted.count >= 6, "2 running and 4 queued at least were accepted: \(accepted.count)")

        // Every accepted job completes, with no restart and no second look.
        for outcome in accepted {
            let done = try await tenants[outcome.tenant].client.poll(outcome.accepted!, timeout: .seconds(60))
            #expect(done.status == "completed", "\(outcome.accepted!): \(done.status)")
        }
        // The database holds exactly the accepted jobs (3 trust approvals besides): the 429s stored nothing.
        var stored = 0
        for tenant in tenants { stored += try await daemon.service.store.history(tenant: tenant.tenantId, limit: 500).count }
        #expect(stored == accepted.count + 3)
        #expect(try await daemon.service.store.queuedJobCount() == 0)
        #expect(try await daemon.service.store.firstBrokenAuditEntry() == nil)
        let metrics = try await daemon.raw("GET", "/metrics").body
        #expect(metrics.contains("oauth3_queue_stranded_total 0"), "\(metrics)")
        #expect(metrics.contains(#"oauth3_admission_refusals_total{limit="queue"} \#(refusals.count)"#))
    }

    @Test("pending_requests: the request over the quota is refused with 429 and the quota's name, and nothing is stored")
    func pendingQuota() async throws {
        let daemon = try await LiveDaemon.start { $0.quotas.pendingRequests = 3 }
        let (agent, tenantId) = try await daemon.tenant()
        for _ in 0..<3 { #expect(try await agent.execute(.init(skillCode: hello)).status == "pending") }
        let over = try await submitRaw(daemon, client: agent, code: hello)
        #expect(over.status == 429)
        #expect(over.headers["retry-after"] != nil && over.headers["x-oauth3-quota"] == "pending_requests")
        let body = try JSONDecoder().decode(ErrorBody.self, from: Data(over.body.utf8))
        #expect(body.quota == "pending_requests" && body.error.contains("pending_requests"), "\(body)")
        // A scope request waits for a person too, and counts against the same quota.
        let scope = try await daemon.raw("POST", "/scope", body: Data(#"{"description":"more","secrets":[],"networks":[]}"#.utf8),
                                         headers: ["Authorization": "Bearer \(agent.apiKey ?? "")", "Content-Type": "application/json"])
        #expect(scope.status == 429 && scope.body.contains("pending_requests"), "\(scope)")
        #expect(try await daemon.service.store.history(tenant: tenantId, limit: 50).count == 3)
        // Another tenant is not affected.
        let (other, _) = try await daemon.tenant("other")
        #expect(try await other.execute(.init(skillCode: hello)).status == "pending")
    }

    @Test("active_jobs: one tenant's queued and running jobs are bounded, while a person's approval is never refused")
    func activeQuota() async throws {
        let daemon = try await LiveDaemon.start { $0.workers = 1; $0.quotas.activeJobs = 2 }
        let (agent, _) = try await daemon.tenant()
        let waiting = try await agent.execute(.init(skillCode: hello))
        let first = try await agent.execute(.init(skillCode: napping))
        try await approve(daemon, first, level: "trust_code")
        _ = try await agent.execute(.init(skillCode: napping))
        let over = try await submitRaw(daemon, client: agent, code: napping)
        #expect(over.status == 429 && over.headers["x-oauth3-quota"] == "active_jobs", "\(over)")
        // A person approving a waiting request is not a load the daemon may refuse: it queues.
        let (status, body) = try await approve(daemon, waiting)
        #expect(status == 200 && body.contains("approved"), "\(body)")
        #expect(try await agent.poll(waiting.requestId, timeout: .seconds(60)).status == "completed")
    }

    @Test("stored_bytes: code past the tenant's byte quota is refused with 429 and its name")
    func storedBytesQuota() async throws {
        let daemon = try await LiveDaemon.start { $0.quotas.storedBytes = 3000 }
        let (agent, tenantId) = try await daemon.tenant()
        let big = hello + "\n// " + String(repeating: "x", count: 1500) + "\n"
        #expect(try await agent.execute(.init(skillCode: big)).status == "pending")
        let over = try await submitRaw(daemon, client: agent, code: big)
        #expect(over.status == 429 && over.headers["x-oauth3-quota"] == "stored_bytes", "\(over)")
        #expect(try await daemon.service.store.storedBytes(tenant: tenantId) == big.utf8.count)
    }

    @Test("long_polls: a tenant holding its quota of long-polls gets 429 for one more, and a poll without wait is still served")
    func longPollQuota() async throws {
        let daemon = try await LiveDaemon.start { $0.quotas.longPolls = 1 }
        let (agent, tenantId) = try await daemon.tenant()
        let job = try await agent.execute(.init(skillCode: hello))
        let held = Task { try await daemon.raw("GET", "/execute/\(job.requestId)/status?wait=true&timeout=20", headers: ["Authorization": "Bearer \(agent.apiKey ?? "")"]) }
        while await daemon.service.events.heldCount(tenant: tenantId) == 0 { try await Task.sleep(for: .milliseconds(10)) }
        let over = try await daemon.raw("GET", "/execute/\(job.requestId)/status?wait=true&timeout=20", headers: ["Authorization": "Bearer \(agent.apiKey ?? "")"])
        #expect(over.status == 429 && over.headers["x-oauth3-quota"] == "long_polls" && over.headers["retry-after"] != nil, "\(over)")
        // Without wait the status is always served.
        #expect(try await agent.status(job.requestId).status == "pending")
        try await approve(daemon, job)
        let answered = try await held.value
        #expect(answered.status == 200)
    }

    @Test("Requests nobody answers expire: failed/expired, code purged, the purge audited; the link decides nothing")
    func expiry() async throws {
        let clock = ManualClock(start: 1_800_000_000_000)
        let daemon = try await LiveDaemon.start(clock: clock) { $0.approvalTokenLifetimeSeconds = 3600 }
        let (agent, _) = try await daemon.tenant()
        let old = try await agent.execute(.init(skillCode: hello))
        let scope = try await agent.scope(.init(description: "later", constraints: [], secrets: ["API_TOKEN"], networks: []))
        clock.advance(seconds: 1800)
        let young = try await agent.execute(.init(skillCode: withSecret))
        clock.advance(seconds: 1801)
        await daemon.service.maintain()

        for id in [old.requestId, scope.requestId] {
            let expired = try await agent.status(id)
            #expect(expired.status == "failed" && expired.error?.hasPrefix("expired") == true, "\(expired)")
            let record = try #require(try await daemon.service.store.job(id: id))
            #expect(record.code == nil && record.outcome == "expired")
            #expect(try await daemon.service.store.audit(job: id).last?.event == "job.expired")
        }
        #expect(try await agent.status(young.requestId).status == "pending")
        let late = try await approve(daemon, old)
        #expect(late.body.contains("Already processed"), "\(late)")
        #expect(try await agent.status(old.requestId).status == "failed")
        #expect(try await daemon.service.store.firstBrokenAuditEntry() == nil)
    }

    @Test("Two tenants asking for the same new session_id: the second gets 409, and the first's scope is approved")
    func sessionRace() async throws {
        let daemon = try await LiveDaemon.start()
        let (first, _) = try await daemon.tenant("first")
        let (second, _) = try await daemon.tenant("second")
        let request = ScopeRequest(description: "mine", constraints: [], secrets: [], networks: ["api.example.com"], sessionId: "shared-name")
        async let a = scopeRaw(daemon, client: first, request)
        async let b = scopeRaw(daemon, client: second, request)
        let replies = try await [a, b]
        #expect(replies.map(\.status).sorted() == [201, 409], "\(replies)")
        let winner = try #require(replies.first { $0.status == 201 })
        let loser = replies[0].status == 409 ? first : second
        #expect(replies.contains { $0.status == 409 && $0.body.contains("session_id shared-name is taken") })
        let status = try JSONDecoder().decode(ExecutionStatus.self, from: Data(winner.body.utf8))
        let (code, body) = try await approve(daemon, status)
        #expect(code == 200, "\(body)")
        // Once the session exists, the other tenant is still refused, and never reaches it.
        #expect(try await scopeRaw(daemon, client: loser, request).status == 409)
    }
}

/// `POST /execute` with the raw reply, for statuses and headers the typed client turns into errors.
func submitRaw(_ daemon: LiveDaemon, client: OAuth3Client, code: String) async throws -> (status: Int, headers: [String: String], body: String) {
    try await daemon.raw("POST", "/execute", body: try JSONEncoder().encode(ExecuteRequest(skillCode: code)),
                         headers: ["Authorization": "Bearer \(client.apiKey ?? "")", "Content-Type": "application/json"])
}

/// `POST /scope` with the raw reply.
func scopeRaw(_ daemon: LiveDaemon, client: OAuth3Client, _ request: ScopeRequest) async throws -> (status: Int, headers: [String: String], body: String) {
    try await daemon.raw("POST", "/scope", body: try JSONEncoder().encode(request),
                         headers: ["Authorization": "Bearer \(client.apiKey ?? "")", "Content-Type": "application/json"])
}

import Foundation
import Gateway
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

let hello = """
    // @skill hello
    // @description says hello
    console.log("hello from the enclave")
    """

let withSecret = """
    // @skill secretive
    // @secrets API_TOKEN
    const t = Deno.env.get("API_TOKEN")!
    console.log("token", t, t.length)
    """

@Suite("The compatible API, end to end over HTTP with real Deno", .serialized, .timeLimit(.minutes(5)), .stopsDaemons)
struct ExecutionFlowTests {
    @Test("signup → execute → approve → poll: completed with the skill's stdout")
    func approveOnce() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let submitted = try await agent.execute(.init(skillId: "hello", skillCode: hello))
        #expect(submitted.status == "pending")
        #expect(submitted.requestId.hasPrefix("exec_") && submitted.requestId.count == 21)
        let url = try #require(submitted.approvalUrl)
        #expect(url.hasPrefix("\(daemon.url.absoluteString)/approve/\(submitted.requestId)?token="))
        #expect(token(of: url).count == 64 && token(of: url).allSatisfy(\.isHexDigit))
        #expect(submitted.statusUrl == "\(daemon.url.absoluteString)/execute/\(submitted.requestId)/status?wait=true")

        // The approver's view.
        let view = try await daemon.raw("GET", "/approve/\(submitted.requestId)?token=\(token(of: url))")
        let request = try JSONDecoder().decode(ApprovalRequest.self, from: Data(view.body.utf8))
        #expect(request.code == hello && request.codeSha256 == submitted.codeSha256 && request.networks.isEmpty)

        let (status, body) = try await approve(daemon, submitted)
        #expect(status == 200 && body.contains("\"approved\""))
        let done = try await agent.poll(submitted.requestId, timeout: .seconds(60))
        #expect(done.status == "completed")
        #expect(done.result?.claims.run.stdout == "hello from the enclave\n")
        // The link's token decided (this account has no approver passkey): never "human".
        #expect(done.result?.claims.approvedBy == "token" && done.result?.claims.consent.approval.method.rawValue == "token")
        #expect(done.approvedBy == "token")
    }

    @Test("A long-poll returns promptly when the job completes, not at its limit")
    func longPollWakes() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, tenantId) = try await daemon.tenant()
        let submitted = try await agent.execute(.init(skillCode: hello))
        let clock = ContinuousClock()
        async let waited: ExecutionStatus = agent.status(submitted.requestId, wait: true)
        try await waitUntil("the long-poll is held") { await daemon.service.events.heldCount(tenant: tenantId) == 1 }
        let start = clock.now
        try await approve(daemon, submitted)
        var reply = try await waited
        // The first wake-up is the approval; one more long-poll sees the job through to the end.
        if !reply.isFinal { reply = try await agent.status(submitted.requestId, wait: true) }
        if !reply.isFinal { reply = try await agent.status(submitted.requestId, wait: true) }
        #expect(reply.status == "completed")
        #expect(start.duration(to: clock.now) < .seconds(10))
    }

    @Test("Deny ends the job; the token cannot then approve it")
    func deny() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let submitted = try await agent.execute(.init(skillCode: hello))
        let denied = try await daemon.raw("POST", "/approve/\(submitted.requestId)", body: decision(token(of: submitted.approvalUrl), "deny"), headers: ["Content-Type": "application/json"])
        #expect(denied.status == 200)
        #expect(try await agent.status(submitted.requestId).status == "denied")
        let again = try await approve(daemon, submitted)
        #expect(again.body.contains("Already processed") && again.body.contains("denied"))
        #expect(try await agent.poll(submitted.requestId, timeout: .seconds(5)).status == "denied")
    }

    @Test("Missing secrets: awaiting_secrets, then supplied by the approver, sealed, injected and redacted")
    func awaitingSecrets() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let submitted = try await agent.execute(.init(skillCode: withSecret))
        #expect(submitted.missingSecrets == ["API_TOKEN"])
        let first = try await approve(daemon, submitted)
        #expect(first.body.contains("awaiting_secrets"))
        #expect(try await agent.poll(submitted.requestId, timeout: .seconds(5)).status == "awaiting_secrets")
        let value = "s3cret-\(UUID().uuidString)"
        try await approve(daemon, submitted, secrets: ["API_TOKEN": value])
        let done = try await agent.poll(submitted.requestId, timeout: .seconds(60))
        #expect(done.status == "completed")
        #expect(done.result?.claims.run.stdout == "token [REDACTED:API_TOKEN] \(value.count)\n")
        #expect(try await agent.secrets().secrets.map(\.name) == ["API_TOKEN"])
        // Sealed at rest: the value is nowhere in the database files.
        for file in ["enclave.sqlite", "enclave.sqlite-wal"] {
            let bytes = FileManager.default.contents(atPath: daemon.dataDirectory + "/" + file) ?? Data()
            #expect(bytes.range(of: Data(value.utf8)) == nil, "\(file) holds the plaintext")
        }
    }

    @Test("A job waiting only for secrets runs as soon as the tenant stores them with PUT /secrets")
    func secretsReleaseWaitingJob() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let submitted = try await agent.execute(.init(skillCode: withSecret))
        try await approve(daemon, submitted)
        try await agent.putSecret("API_TOKEN", value: "from-put")
        let done = try await agent.poll(submitted.requestId, timeout: .seconds(60))
        #expect(done.status == "completed" && done.result?.claims.run.stdout == "token [REDACTED:API_TOKEN] 8\n")
    }

    @Test("trust_code: the same code from the same tenant then runs without asking; another tenant still asks")
    func trustCode() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let first = try await agent.execute(.init(skillCode: hello))
        try await approve(daemon, first, level: "trust_code")
        #expect(try await agent.poll(first.requestId, timeout: .seconds(60)).status == "completed")
        let second = try await agent.execute(.init(skillCode: hello))
        #expect(second.status == "approved" && second.approvalUrl == nil && second.approvedBy == "trusted_code")
        #expect(try await agent.poll(second.requestId, timeout: .seconds(60)).result?.claims.approvedBy == "trusted_code")
        let changed = try await agent.execute(.init(skillCode: hello + "\n// one byte more"))
        #expect(changed.status == "pending")
        let (other, _) = try await daemon.tenant("other")
        #expect(try await other.execute(.init(skillCode: hello)).status == "pending")
    }

    @Test("Tenants see only their own jobs, secrets and sessions: others' ids answer 404")
    func tenantIsolation() async throws {
        let daemon = try await LiveDaemon.start()
        let (alice, _) = try await daemon.tenant("alice")
        let (mallory, _) = try await daemon.tenant("mallory")
        let job = try await alice.execute(.init(skillCode: hello))
        try await alice.putSecret("ALICE_KEY", value: "alice-only")
        await #expect { try await mallory.status(job.requestId) } throws: { ($0 as? OAuth3ClientError)?.status == 404 }
        #expect(try await mallory.secrets().secrets.isEmpty)
        await #expect { try await mallory.deleteSecret("ALICE_KEY") } throws: { ($0 as? OAuth3ClientError)?.status == 404 }
        #expect(try await mallory.history().history.isEmpty)
        #expect(try await alice.history().history.map(\.requestId) == [job.requestId])
    }

    @Test("History lists executions newest first with status, skill, code hash and approval; /me describes the tenant")
    func historyAndMe() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, tenantId) = try await daemon.tenant("historian")
        let one = try await agent.execute(.init(skillId: "first", skillCode: hello))
        try await approve(daemon, one)
        _ = try await agent.poll(one.requestId, timeout: .seconds(60))
        let two = try await agent.execute(.init(skillId: "second", skillCode: hello))
        let history = try await agent.history(limit: 10).history
        #expect(history.map(\.requestId) == [two.requestId, one.requestId])
        #expect(history[1].status == "completed" && history[1].approvedBy == "token" && history[1].outcome == "ok" && history[1].skillId == "first")
        let me = try await agent.me()
        #expect(me.tenantId == tenantId && me.name == "historian" && me.jobs == 2 && me.authentication == "api_key")
    }
}


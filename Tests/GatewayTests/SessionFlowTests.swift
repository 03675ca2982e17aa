import Foundation
import Gateway
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

let github = """
    // @skill gh
    // @secrets GH_TOKEN
    // @network api.github.com
    console.log("would call GitHub with", Deno.env.get("GH_TOKEN")!.length, "chars")
    """

let scopeRequest = ScopeRequest(
    description: "GitHub read access for my-org", constraints: ["Only read", "my-org only"], secrets: ["GH_TOKEN"], networks: ["api.github.com"],
    skillCode: github)

@Suite("Sessions and scopes", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct SessionFlowTests {
    /// Asks for the scope and approves it (supplying the token), returning the session id.
    func approvedSession(_ daemon: LiveDaemon, _ agent: OAuth3Client) async throws -> String {
        let scope = try await agent.scope(scopeRequest)
        #expect(scope.status == "pending_scope" && scope.requestId.hasPrefix("scope_") && scope.sessionId?.hasPrefix("session_") == true)
        let reply = try await approve(daemon, scope, secrets: ["GH_TOKEN": "ghp_session_secret"])
        #expect(reply.body.contains("\"completed\""), "\(reply.body)")
        #expect(try await agent.poll(scope.requestId, timeout: .seconds(10)).status == "completed")
        return try #require(scope.sessionId)
    }

    @Test("A scope's approval page shows its description, constraints verbatim, hosts and missing secrets")
    func scopePage() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let scope = try await agent.scope(scopeRequest)
        let page = try await daemon.raw("GET", "/approve/\(scope.requestId)?token=\(token(of: scope.approvalUrl))", headers: ["Accept": "text/html"])
        for text in ["GitHub read access for my-org", "Only read", "my-org only", "api.github.com:443", "GH_TOKEN", "missing", "does not check them"] {
            #expect(page.body.contains(text), "\(text)")
        }
        let json = try JSONDecoder().decode(ApprovalRequest.self, from: Data(try await daemon.raw("GET", "/approve/\(scope.requestId)?token=\(token(of: scope.approvalUrl))").body.utf8))
        #expect(json.kind == "scope" && json.constraints == ["Only read", "my-org only"] && json.missingSecrets == ["GH_TOKEN"])
    }

    @Test("Skills that fit the session run without a human; one secret more, or another host, needs one and says why")
    func autoApproval() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let session = try await approvedSession(daemon, agent)
        let fits = try await agent.execute(.init(skillCode: github, sessionId: session))
        #expect(fits.status == "approved" && fits.approvedBy == "session_policy" && fits.approvalUrl == nil)
        let done = try await agent.poll(fits.requestId, timeout: .seconds(60))
        #expect(done.status == "completed" && done.result?.claims.approvedBy == "session_policy" && done.result?.claims.approvalDetail == session)

        let greedy = github.replacingOccurrences(of: "// @secrets GH_TOKEN", with: "// @secrets GH_TOKEN\n// @secrets NPM_TOKEN")
        let more = try await agent.execute(.init(skillCode: greedy, sessionId: session))
        #expect(more.status == "pending" && more.approvalUrl != nil)
        // Other code than the scope showed: a gap of its own, besides the secret.
        #expect(more.policyViolations?.count == 2 && more.policyViolations?.first?.contains("was not approved for session \(session)") == true)
        #expect(more.policyViolations?.last == "secret NPM_TOKEN is not in the session's policy")
        let elsewhere = try await agent.execute(.init(skillCode: github.replacingOccurrences(of: "api.github.com", with: "api.gitlab.com"), sessionId: session))
        #expect(elsewhere.policyViolations?.last == "host api.gitlab.com:443 is not covered by the session's networks")
        let history = try await agent.history().history
        #expect(history.first { $0.requestId == fits.requestId }?.approvedBy == "session_policy")
    }

    @Test("Dry runs answer without running: session_policy, policy_violation, needs_approval, trusted_code")
    func dryRuns() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let session = try await approvedSession(daemon, agent)
        var verdict = try await agent.dryRun(.init(skillCode: github, sessionId: session))
        #expect(verdict.wouldAutoApprove && verdict.reason == "session_policy" && verdict.missingSecrets.isEmpty)
        verdict = try await agent.dryRun(.init(skillCode: github.replacingOccurrences(of: "api.github.com", with: "*.github.com"), sessionId: session))
        #expect(!verdict.wouldAutoApprove && verdict.reason == "policy_violation" && verdict.policyGaps.newNetworks == ["*.github.com:443"])
        verdict = try await agent.dryRun(.init(skillCode: "// @skill x\n// @secrets NEW_ONE\n"))
        #expect(!verdict.wouldAutoApprove && verdict.reason == "needs_approval" && verdict.missingSecrets == ["NEW_ONE"])
        let trusted = try await agent.execute(.init(skillCode: hello))
        try await approve(daemon, trusted, level: "trust_code")
        verdict = try await agent.dryRun(.init(skillCode: hello))
        #expect(verdict.wouldAutoApprove && verdict.reason == "trusted_code")
        #expect(try await agent.history().history.count == 1, "a dry run creates no job")
    }

    @Test("Sessions: listed, shown, revoked (later executes need a human), expired after 2 idle hours")
    func lifecycle() async throws {
        let clock = ManualClock(start: 1_800_000_000_000)
        let daemon = try await LiveDaemon.start(clock: clock)
        let (agent, _) = try await daemon.tenant()
        let session = try await approvedSession(daemon, agent)
        let listed = try await agent.sessions().sessions
        #expect(listed.map(\.sessionId) == [session] && listed[0].status == "active" && listed[0].policy.allowedSecrets == ["GH_TOKEN"])
        #expect(listed[0].policy.constraints == ["Only read", "my-org only"])

        clock.advance(seconds: 2 * 3600 - 60)
        #expect(try await agent.dryRun(.init(skillCode: github, sessionId: session)).wouldAutoApprove)
        clock.advance(seconds: 120)
        let idle = try await agent.dryRun(.init(skillCode: github, sessionId: session))
        #expect(!idle.wouldAutoApprove && idle.policyViolations == ["session \(session) is expired: idle for more than 2 hours"])
        let expired = try await agent.sessions().sessions[0]
        #expect(expired.status == "expired" && expired.idleMinutes == 121)

        let fresh = try await approvedSession(daemon, agent)
        #expect(try await agent.execute(.init(skillCode: github, sessionId: fresh)).status == "approved")
        let deleted = try await daemon.raw("DELETE", "/sessions/\(fresh)", headers: ["Authorization": "Bearer \(agent.apiKey!)"])
        #expect(deleted.status == 200)
        let after = try await agent.execute(.init(skillCode: github, sessionId: fresh))
        #expect(after.status == "pending" && after.policyViolations == ["session \(fresh) is revoked"])
    }

    @Test("Asking again for a session only adds, and the additions need approval; nothing new completes at once")
    func additions() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let session = try await approvedSession(daemon, agent)
        var again = scopeRequest
        again.sessionId = session
        let same = try await agent.scope(again)
        #expect(same.status == "completed" && same.approvalUrl == nil)
        let uploads = github.replacingOccurrences(of: "api.github.com", with: "uploads.github.com")
        again.networks = ["uploads.github.com"]
        again.skillCode = uploads
        let wider = try await agent.scope(again)
        #expect(wider.status == "pending_scope" && wider.sessionId == session)
        #expect(try await agent.execute(.init(skillCode: uploads, sessionId: session)).status == "pending", "not before approval")
        try await approve(daemon, wider)
        #expect(try await agent.execute(.init(skillCode: uploads, sessionId: session)).status == "approved")
        #expect(try await agent.execute(.init(skillCode: github, sessionId: session)).status == "approved", "the old grants remain")
    }

    @Test("Sessions belong to their tenant: another tenant can neither use, see, extend nor revoke them")
    func isolation() async throws {
        let daemon = try await LiveDaemon.start()
        let (alice, _) = try await daemon.tenant("alice")
        let (mallory, _) = try await daemon.tenant("mallory")
        let session = try await approvedSession(daemon, alice)
        try await mallory.putSecret("GH_TOKEN", value: "mallory's")
        let stolen = try await mallory.execute(.init(skillCode: github, sessionId: session))
        #expect(stolen.status == "pending" && stolen.policyViolations == ["session \(session) does not exist for this tenant"])
        #expect(try await mallory.sessions().sessions.isEmpty)
        var hijack = scopeRequest
        hijack.sessionId = session
        // Session ids are global: another tenant's id is "taken" (409), never extended.
        await #expect { try await mallory.scope(hijack) } throws: { ($0 as? OAuth3ClientError)?.status == 409 }
        #expect(try await daemon.raw("DELETE", "/sessions/\(session)", headers: ["Authorization": "Bearer \(mallory.apiKey!)"]).status == 404)
        #expect(try await alice.sessions().sessions[0].status == "active")
    }

    @Test("Scope hosts and secret names are validated exactly like skill headers")
    func scopeValidation() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        for (request, fragment) in [
            (ScopeRequest(description: "x", networks: ["a.com,0.0.0.0/0"]), "networks[0]"),
            (ScopeRequest(description: "x", networks: ["*"]), "every host"),
            (ScopeRequest(description: "x", networks: ["127.0.0.1"]), "IP address"),
            (ScopeRequest(description: "x", secrets: ["LD_PRELOAD"]), "secrets[0]"),
            (ScopeRequest(description: " "), "description"),
        ] {
            await #expect { try await agent.scope(request) } throws: { error in
                (error as? OAuth3ClientError)?.status == 400 && "\(error)".contains(fragment)
            }
        }
    }

    @Test("oauth3 scope-and-execute runs the whole flow end to end")
    func scopeAndExecute() async throws {
        let daemon = try await LiveDaemon.start()
        let home = Fixture.workRoot()
        let (agent, _) = try await daemon.tenant()
        try await agent.putSecret("GH_TOKEN", value: "ghp_cli")
        try github.write(toFile: home + "/github.ts", atomically: true, encoding: .utf8)
        try String(decoding: JSONEncoder().encode(scopeRequest), as: UTF8.self).write(toFile: home + "/scope.json", atomically: true, encoding: .utf8)
        let run = try await oauth3(
            ["scope-and-execute", "--scope", home + "/scope.json", "--code", home + "/github.ts", "--key", agent.apiKey!],
            environment: ["HOME": home, "OAUTH3_URL": daemon.url.absoluteString]
        ) { url in try await approveLink(daemon, url) }
        #expect(run.status == 0, "\(run.err)")
        #expect(run.err.contains("👉 Approve scope: ") && run.err.contains("✅ Scope approved, session: session_"))
        #expect(!run.err.contains("👉 Approve execution"), "the skill fits the scope: no second approval")
        let status = try JSONDecoder().decode(ExecutionStatus.self, from: Data(run.out.utf8))
        #expect(status.status == "completed" && status.approvedBy == "session_policy")
        #expect(status.result?.claims.run.stdout == "would call GitHub with 7 chars\n")
    }
}

import Crypto
import Foundation
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

/// What a polled status carries while a person must act: the approval link, the missing secrets, and why
/// a session did not approve the job. Real daemon, real HTTP.
@Suite("The polled status carries the next step", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct PolledStatusTests {
    @Test("pending and awaiting_secrets: the status carries the job's approval link, which still approves it")
    func approvalURLWhileWaiting() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let submitted = try await agent.execute(.init(skillCode: withSecret))
        let link = try #require(submitted.approvalUrl)

        let pending = try await agent.status(submitted.requestId)
        #expect(pending.status == "pending" && pending.approvalUrl == link)
        #expect(pending.missingSecrets == ["API_TOKEN"])
        let held = try await agent.status(submitted.requestId, holdingUpTo: .seconds(1))
        #expect(held.approvalUrl == link)

        try await approve(daemon, submitted)  // no value for API_TOKEN
        let awaiting = try await agent.status(submitted.requestId)
        #expect(awaiting.status == "awaiting_secrets" && awaiting.approvalUrl == link && awaiting.missingSecrets == ["API_TOKEN"])
        #expect(awaiting.message?.contains("API_TOKEN") == true)

        // The link from the status is the job's own: it supplies the value, and the job completes.
        let supplied = try await approve(daemon, awaiting, secrets: ["API_TOKEN": "from-the-polled-link"])
        #expect(supplied.status == 200, "\(supplied.body)")
        let done = try await agent.poll(submitted.requestId, timeout: .seconds(60))
        #expect(done.status == "completed" && done.approvalUrl == nil && done.missingSecrets == nil)
    }

    @Test("pending_scope carries its link; a finished or auto-approved job carries none")
    func scopeAndFinished() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let scope = try await agent.scope(.init(description: "read repos", secrets: ["GH_TOKEN"], networks: ["api.github.com"]))
        let polled = try await agent.status(scope.requestId)
        #expect(polled.status == "pending_scope" && polled.approvalUrl == scope.approvalUrl && polled.approvalUrl != nil)

        let denied = try await agent.execute(.init(skillCode: hello))
        _ = try await daemon.raw("POST", "/approve/\(denied.requestId)", body: decision(token(of: denied.approvalUrl), "deny"), headers: ["Content-Type": "application/json"])
        #expect(try await agent.status(denied.requestId).approvalUrl == nil)
    }

    @Test("A session job the session does not cover: pending, with the session's gaps in policy_violations")
    func policyViolationsPolled() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let scope = try await agent.scope(.init(description: "read", secrets: ["GH_TOKEN"], networks: ["api.github.com"]))
        try await approve(daemon, scope)
        #expect(try await agent.poll(scope.requestId, timeout: .seconds(10)).status == "completed")
        let sessionId = try #require(scope.sessionId)

        let code = "// @skill wider\n// @secrets GH_TOKEN\n// @secrets SLACK_TOKEN\n// @network slack.com\nconsole.log(1)\n"
        let submitted = try await agent.execute(.init(skillCode: code, sessionId: sessionId))
        // Sessions are bound to code (issue 14): this code was never shown with the scope, so that gap comes first.
        let hash = SHA256.hash(data: Data(code.utf8)).map { String(format: "%02x", $0) }.joined()
        let expected = [
            "code \(hash) was not approved for session \(sessionId): only the code shown with its scopes (or code trusted later) runs without a human",
            "secret SLACK_TOKEN is not in the session's policy", "host slack.com:443 is not covered by the session's networks",
        ]
        #expect(submitted.status == "pending" && submitted.policyViolations == expected)
        let polled = try await agent.status(submitted.requestId)
        #expect(polled.status == "pending" && polled.policyViolations == expected && polled.approvalUrl == submitted.approvalUrl)
        #expect(polled.sessionId == sessionId)
    }
}

import Foundation
import Gateway
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

/// Bound secrets through the API: the binding stored, listed and validated, and a job that could not use
/// its bound secret refused at submit. (What the proxy does with one is `EgressTests`' `BoundSecretTests`.)
@Suite("Bound secrets over the API", .serialized, .timeLimit(.minutes(5)), .stopsDaemons)
struct BoundSecretAPITests {
    @Test("PUT with hosts stores a normalised binding that GET /secrets shows, never the value; bad bindings are refused by name")
    func storedAndListed() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let value = "ghp_bound_\(UUID().uuidString)"
        try await agent.putSecret("GH_TOKEN", value: value, hosts: ["API.github.com", "*.example.com:8443", "api.github.com:443"])
        try await agent.putSecret("PLAIN", value: "unbound")
        let list = try await agent.secrets()
        #expect(list.secrets.map(\.name) == ["GH_TOKEN", "PLAIN"])
        #expect(list.secrets[0].binding == SecretBinding(hosts: ["*.example.com:8443", "api.github.com:443"], placement: "header"))
        #expect(list.secrets[1].binding == nil)
        let key = try #require(agent.apiKey)
        let raw = try await daemon.raw("GET", "/secrets", headers: ["Authorization": "Bearer \(key)"])
        #expect(!raw.body.contains(value) && raw.body.contains("\"binding\""))

        for (body, expected) in [
            (#"{"value":"v","hosts":["https://api.github.com"]}"#, "hosts[0]: 'https://api.github.com' has a scheme"),
            (#"{"value":"v","hosts":[]}"#, "hosts must name 1 to 32 hosts"),
            (#"{"value":"v","hosts":["api.github.com"],"placement":"body"}"#, "placement must be header, not 'body'"),
            (#"{"value":"v","placement":"header"}"#, "placement 'header' needs hosts"),
            (#"{"value":"a\r\nX-Evil: 1","hosts":["api.github.com"]}"#, "no control characters"),
        ] {
            let reply = try await daemon.raw(
                "PUT", "/secrets/BAD", body: Data(body.utf8), headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json"])
            #expect(reply.status == 400 && reply.body.contains(expected), "\(body): \(reply.body)")
        }
        #expect(try await agent.secrets().secrets.map(\.name) == ["GH_TOKEN", "PLAIN"])
    }

    @Test("The approval page shows a stored binding, and its form binds a supplied secret to the hosts typed beside it")
    func approvalPage() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        try await agent.putSecret("GH_TOKEN", value: "ghp_stored", hosts: ["api.github.com"])
        let code = "// @skill s\n// @secrets GH_TOKEN\n// @secrets OTHER_KEY\n// @network api.github.com\n// @network api.other.example\n"
            + "console.log(['GH_TOKEN', 'OTHER_KEY'].map((name) => Deno.env.get(name).startsWith(`oauth3-placeholder-${name}-`)).join(' '))\n"
        let job = try await agent.execute(.init(skillCode: code))
        let page = try await daemon.raw("GET", "/approve/\(job.requestId)?token=\(token(of: job.approvalUrl))", headers: ["Accept": "text/html"])
        #expect(page.body.contains("<code>GH_TOKEN</code> bound to <code>api.github.com:443</code> (the skill sees a placeholder)"))
        #expect(page.body.contains("name=\"secret_hosts[OTHER_KEY]\"") && !page.body.contains("name=\"secret_hosts[GH_TOKEN]\""))
        let view = try await daemon.raw("GET", "/approve/\(job.requestId)?token=\(token(of: job.approvalUrl))")
        let request = try JSONDecoder().decode(ApprovalRequest.self, from: Data(view.body.utf8))
        #expect(request.secretBindings == ["GH_TOKEN": SecretBinding(hosts: ["api.github.com:443"], placement: "header")])

        // A bad host is refused by name, and nothing is stored.
        let bad = "token=\(token(of: job.approvalUrl))&decision=approve_once&secrets%5BOTHER_KEY%5D=v&secret_hosts%5BOTHER_KEY%5D=http%3A%2F%2Fx"
        let refused = try await daemon.raw("POST", "/approve/\(job.requestId)", body: Data(bad.utf8), headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"])
        #expect(refused.status == 400 && refused.body.contains("secret_hosts[OTHER_KEY]"), "\(refused.body)")
        #expect(try await agent.secrets().secrets.map(\.name) == ["GH_TOKEN"])
        // A binding that none of the job's hosts is covered by could reach nothing: refused as at submit, and with it
        // the whole decision, so neither secret typed beside it is stored.
        let uncovered = "token=\(token(of: job.approvalUrl))&decision=approve_once&secrets%5BOTHER_KEY%5D=v&secret_hosts%5BOTHER_KEY%5D=api.unrelated.example"
        let refusedHost = try await daemon.raw("POST", "/approve/\(job.requestId)", body: Data(uncovered.utf8), headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"])
        #expect(refusedHost.status == 400 && refusedHost.body.contains("secret_hosts[OTHER_KEY]: bound to api.unrelated.example:443, but this skill")
            && refusedHost.body.contains("@network declares none of them"), "\(refusedHost.body)")
        #expect(try await agent.secrets().secrets.map(\.name) == ["GH_TOKEN"])

        let form = "token=\(token(of: job.approvalUrl))&decision=approve_once&secrets%5BOTHER_KEY%5D=other+value&secret_hosts%5BOTHER_KEY%5D=api.other.example"
        let reply = try await daemon.raw("POST", "/approve/\(job.requestId)", body: Data(form.utf8), headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"])
        #expect(reply.status == 200, "\(reply.body)")
        let stored = try await agent.secrets().secrets.first { $0.name == "OTHER_KEY" }
        #expect(stored?.binding == SecretBinding(hosts: ["api.other.example:443"], placement: "header"))
        // The job ran with both secrets bound: each variable held its placeholder, never the value.
        let done = try await agent.poll(job.requestId, timeout: .seconds(60))
        #expect(done.status == "completed" && done.result?.claims.run.stdout == "true true\n", "\(String(describing: done.result))")
    }

    @Test("A job declaring a bound secret but none of the hosts its binding covers is refused at submit")
    func submitNeedsABoundHost() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        try await agent.putSecret("GH_TOKEN", value: "ghp_x", hosts: ["api.github.com"])
        let elsewhere = "// @skill s\n// @secrets GH_TOKEN\n// @network other.example.com\nconsole.log(1)\n"
        do {
            _ = try await agent.execute(.init(skillCode: elsewhere))
            Issue.record("a job that cannot use its bound secret was accepted")
        } catch let error as OAuth3ClientError {
            #expect(error.status == 400)
            #expect(error.message.contains("secret GH_TOKEN is bound to api.github.com:443, but the skill's @network declares none of them"))
        }
        let covered = "// @skill s\n// @secrets GH_TOKEN\n// @network api.github.com\nconsole.log(1)\n"
        #expect(try await agent.execute(.init(skillCode: covered)).status == "pending")
    }
}

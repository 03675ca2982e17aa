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

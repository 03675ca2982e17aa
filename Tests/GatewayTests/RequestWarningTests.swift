import Foundation
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

/// Requests name what the enclave does not support, instead of dropping it silently. Raw HTTP against a
/// live daemon, so the bodies are exactly what an agent sends.
@Suite("Requests name what is unsupported", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct RequestWarningTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("skill_url (which the SDK's type has) is a 400 that says to send skill_code; nothing is stored")
    func skillURL() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let headers = ["Content-Type": "application/json", "Authorization": "Bearer \(agent.apiKey!)"]
        for body in [#"{"skill_id":"x","skill_url":"https://example.com/skill.ts"}"#,
                     #"{"skill_id":"x","skill_url":"https://example.com/skill.ts","skill_code":"// @skill x\n"}"#] {
            let reply = try await daemon.raw("POST", "/execute", body: Data(body.utf8), headers: headers)
            #expect(reply.status == 400, "\(reply.body)")
            let error = try json(reply.body)["error"] as? String ?? ""
            #expect(error.contains("skill_url is not supported") && error.contains("skill_code"), "\(error)")
        }
        #expect(try await agent.history().history.isEmpty)
    }

    @Test("Unknown fields are named in the reply's warnings (a camelCase spelling gets its snake_case name); known ones give none")
    func unknownFields() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let headers = ["Content-Type": "application/json", "Authorization": "Bearer \(agent.apiKey!)"]
        let code = try String(data: JSONEncoder().encode(hello), encoding: .utf8)!

        let execute = try await daemon.raw(
            "POST", "/execute", body: Data(#"{"skill_code":\#(code),"skillId":"greeter","timeout_ms":5000}"#.utf8), headers: headers)
        #expect(execute.status == 201, "\(execute.body)")
        let warnings = try json(execute.body)["warnings"] as? [String] ?? []
        #expect(warnings.count == 2, "\(warnings)")
        #expect(warnings.first == "unknown field 'skillId' ignored: did you mean 'skill_id'?")
        #expect(warnings.last?.hasPrefix("unknown field 'timeout_ms' ignored: this request reads only ") == true)
        #expect(try json(execute.body)["status"] as? String == "pending", "the reply's own fields are all still there")

        let clean = try await daemon.raw("POST", "/execute", body: Data(#"{"skill_code":\#(code),"skill_id":"greeter"}"#.utf8), headers: headers)
        let cleanReply = try json(clean.body)
        #expect(clean.status == 201 && cleanReply["warnings"] == nil, "\(clean.body)")

        let dryRun = try await daemon.raw("POST", "/execute", body: Data(#"{"skill_code":\#(code),"dry_run":true,"dryRun":true}"#.utf8), headers: headers)
        #expect(try json(dryRun.body)["warnings"] as? [String] == ["unknown field 'dryRun' ignored: did you mean 'dry_run'?"], "\(dryRun.body)")

        let scope = try await daemon.raw("POST", "/scope", body: Data(#"{"description":"d","secrets":["A_KEY"],"expires_in":60}"#.utf8), headers: headers)
        let scopeWarnings = try json(scope.body)["warnings"] as? [String]
        #expect(scope.status == 201 && scopeWarnings?.first?.contains("'expires_in'") == true, "\(scope.body)")

        let secret = try await daemon.raw("PUT", "/secrets/A_KEY", body: Data(#"{"value":"v","note":"mine"}"#.utf8), headers: headers)
        let secretWarnings = try json(secret.body)["warnings"] as? [String]
        #expect(secret.status == 200 && secretWarnings?.first?.contains("'note'") == true, "\(secret.body)")
        #expect(try json(secret.body)["stored"] as? String == "sealed")

        let signup = try await daemon.raw("POST", "/signup", body: Data(#"{"name":"n","plan":"pro"}"#.utf8), headers: ["Content-Type": "application/json"])
        let signupWarnings = try json(signup.body)["warnings"] as? [String]
        #expect(signup.status == 201 && signupWarnings?.first?.contains("'plan'") == true, "\(signup.body)")
    }

    @Test("Session policies list in snake_case (allowed_secrets, allowed_networks), and the client reads them")
    func sessionPolicyKeys() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let scope = try await agent.scope(.init(description: "read", secrets: ["GH_TOKEN"], networks: ["api.github.com"]))
        try await approve(daemon, scope)
        let raw = try await daemon.raw("GET", "/sessions", headers: ["Authorization": "Bearer \(agent.apiKey!)"])
        let sessions = try #require(try json(raw.body)["sessions"] as? [[String: Any]])
        let policy = try #require(sessions.first?["policy"] as? [String: Any])
        #expect(Set(policy.keys) == ["description", "constraints", "allowed_secrets", "allowed_networks", "approved_code", "any_code"])
        #expect(policy["allowed_secrets"] as? [String] == ["GH_TOKEN"] && policy["allowed_networks"] as? [String] == ["api.github.com:443"])
        #expect(try await agent.sessions().sessions.first?.policy.allowedNetworks == ["api.github.com:443"])
        // What earlier versions wrote still decodes.
        let earlier = #"{"description":"d","constraints":[],"allowedSecrets":["A"],"allowedNetworks":["h:443"]}"#
        #expect(try JSONDecoder().decode(SessionPolicyView.self, from: Data(earlier.utf8)).allowedSecrets == ["A"])
    }
}

import Foundation
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What a skill sees of its environment, through the real `oauth3-enclave serve` process: the job runs in
/// the real jail, started by a daemon whose own environment holds a canary.
@Suite("A job's environment", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct JobEnvironmentTests {
    @Test("An undeclared Deno.env.get is undefined; Deno.env.toObject() holds the declared secret, the args and Deno's settings, nothing of the daemon's")
    func census() async throws {
        let canary = "daemon-canary-\(UUID().uuidString)"
        let daemon = try await DaemonProcess.start(environment: ["DAEMON_ONLY_CANARY": canary, "HOME": "/root/daemon-home-\(canary)", "USER": canary])
        let agent = OAuth3Client(baseURL: daemon.url, apiKey: try await OAuth3Client(baseURL: daemon.url, apiKey: nil).signup().apiKey)
        let code = """
            // @skill census
            // @secrets DECLARED_TOKEN
            console.log(JSON.stringify({ undeclared: Deno.env.get("NOT_DECLARED_ANYWHERE") ?? "undefined", daemons: Deno.env.get("DAEMON_ONLY_CANARY") ?? "undefined", env: Deno.env.toObject() }))
            """
        let submitted = try await agent.execute(.init(skillCode: code, args: ["GREETING": .string("hi")]))
        let token = submitted.approvalUrl?.components(separatedBy: "token=").last ?? ""
        var request = URLRequest(url: daemon.url.appendingPathComponent("approve/\(submitted.requestId)"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONEncoder().encode(ApprovalDecision(token: token, action: "approve", secrets: ["DECLARED_TOKEN": "declared-value-1234"]))
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)

        let done = try await agent.poll(submitted.requestId, timeout: .seconds(60))
        #expect(done.status == "completed", "\(done)")
        let stdout = try #require(done.result?.claims.run.stdout)
        #expect(!stdout.contains(canary) && !stdout.contains("declared-value-1234"))
        struct Census: Decodable { let undeclared: String; let daemons: String; let env: [String: String] }
        let census = try JSONDecoder().decode(Census.self, from: Data(stdout.utf8))
        #expect(census.undeclared == "undefined" && census.daemons == "undefined")
        // Written out here, not taken from DenoCommand: the declared secret (redacted in the output), the
        // argument, and Deno's own settings, which are constants of the jail's layout.
        #expect(census.env == [
            "DECLARED_TOKEN": "[REDACTED:DECLARED_TOKEN]", "GREETING": "hi",
            "HOME": "/home", "TMPDIR": "/tmp", "DENO_DIR": "/deno", "NO_COLOR": "1", "DENO_NO_UPDATE_CHECK": "1", "DENO_DISABLE_NODE_SHIM": "1",
        ])
    }
}

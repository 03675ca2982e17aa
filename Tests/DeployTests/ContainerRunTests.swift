import DCAPVerifier
import Foundation
import Gateway
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing
import Yams
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The daemon as the compose file runs it, short of Docker: its environment, through the entrypoint, with
/// only the capabilities it grants (and no_new_privs), against a development guest agent measuring the
/// app-compose.json of the compose file. What differs is only where paths point (no container here).
@Suite("The compose file's configuration, run", .serialized, .timeLimit(.minutes(2)), .enabled(if: geteuid() == 0, "setpriv needs root"))
struct ContainerRunTests {
    @Test("The daemon accepts every value the compose file sets, starts with only its capabilities, is ready, reports the compose hash, and runs a networked job")
    func startsReady() async throws {
        let compose = try DeploymentCheck.read("docker-compose.yml")
        let root = Fixture.workRoot()
        let appCompose = root + "/app-compose.json"
        let manifest = AppCompose(name: "oauth3-enclave", dockerComposeFile: compose, allowedEnvs: AppCompose.referencedVariables(in: compose))
        try Data(manifest.encoded).write(to: URL(fileURLWithPath: appCompose))

        let socket = root + "/agent.sock"
        let agent = try Self.launch(Fixture.enclave, ["dev-guest-agent", "--socket", socket, "--compose", appCompose], environment: ["PATH": "/usr/bin:/bin"])
        defer { agent.terminate() }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { try await Task.sleep(for: .milliseconds(50)) }

        var environment = DeploymentCheck.environmentVariables(Self.service(compose)["environment"])
        environment[ServeEnvironment.publicURL.rawValue] = "http://127.0.0.1"  // approval links are not followed here
        environment[ServeEnvironment.jwtSecret.rawValue] = ""  // ${OAUTH3_JWT_SECRET:-} with no value supplied
        environment[ServeEnvironment.host.rawValue] = "127.0.0.1"
        environment[ServeEnvironment.port.rawValue] = "0"  // the OS picks a free port; the daemon logs it
        environment[ServeEnvironment.dataDirectory.rawValue] = root + "/data"
        environment[ServeEnvironment.guestAgentSocket.rawValue] = socket
        environment[ServeEnvironment.deno.rawValue] = Fixture.deno
        environment[ServeEnvironment.jail.rawValue] = Fixture.jail
        // The test network's policies: the repository's, pointing the egress proxy at the test's DNS stub.
        let network = try await TestNetwork.shared()
        environment[ServeEnvironment.policies.rawValue] = network.policies
        environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
        let capabilities = (Self.service(compose)["cap_add"] as? [String] ?? []).map { "+" + $0.lowercased() }.joined(separator: ",")
        let noNewPrivileges = (Self.service(compose)["security_opt"] as? [String] ?? []).contains("no-new-privileges:true")
        let log = Pipe()
        let daemon = try Self.launch(
            "/usr/bin/setpriv", (noNewPrivileges ? ["--no-new-privs"] : []) + ["--bounding-set", "-all," + capabilities, "--",
            DeploymentCheck.directory.appendingPathComponent("entrypoint.sh").path, Fixture.enclave, "serve"], environment: environment, output: log)
        defer { daemon.terminate() }
        let port = try #require(await Self.listeningPort(in: log), "the daemon exited before it logged its address")

        var ready: (status: Int, body: String) = (0, "")
        for _ in 0..<150 {
            ready = (try? await Self.get("http://127.0.0.1:\(port)/readyz")) ?? (0, "")
            if ready.status == 200 || !daemon.isRunning { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(ready.status == 200, "the daemon did not get ready: \(ready.body)")
        let health = try await Self.get("http://127.0.0.1:\(port)/healthz").body
        #expect(health.contains("\"compose_hash\":\"\(manifest.composeHash.hexString)\""), "\(health)")
        #expect(health.contains("\"user_namespace\":true"))
        // A job that declares a host runs, with these capabilities only, through its egress proxy.
        let base = URL(string: "http://127.0.0.1:\(port)")!
        let account = try await OAuth3Client(baseURL: base, apiKey: nil).signup(name: "deploy")
        let client = OAuth3Client(baseURL: base, apiKey: account.apiKey)
        let job = try await client.execute(.init(
            skillCode: "// @skill fetcher\n// @network api.test:8080\nconsole.log(await (await fetch('http://api.test:8080/hello')).text());\n"))
        try await Self.approveWithToken(job, at: base)
        let done = try await client.poll(job.requestId, timeout: .seconds(60))
        #expect(done.status == "completed", "\(done)")
        #expect(done.result?.claims.run.stdout == "hello from api.test:8080\n")
        #expect(done.result?.claims.run.sandbox.network == "proxy" && done.result?.claims.run.sandbox.userNamespace == true)

        let status = try String(contentsOfFile: "/proc/\(daemon.processIdentifier)/status", encoding: .utf8)
        // The entrypoint exec'd the daemon in place: CAP_CHOWN, CAP_SETGID, CAP_SETUID only.
        #expect(status.contains("CapBnd:\t00000000000000c1") && status.contains("CapEff:\t00000000000000c1"), "\(status)")
        for process in [daemon, agent] {
            process.terminate()
            await Fixture.waitForExit(process)
        }
    }

    /// Approves `job` as the person holding its approval link would (a token account: the token decides).
    static func approveWithToken(_ job: ExecutionStatus, at base: URL) async throws {
        var approval = URLRequest(url: base.appendingPathComponent("approve/\(job.requestId)"))
        approval.httpMethod = "POST"
        approval.setValue("application/json", forHTTPHeaderField: "Content-Type")
        approval.httpBody = try JSONEncoder().encode(
            ApprovalDecision(token: job.approvalUrl?.components(separatedBy: "token=").last ?? "", action: "approve"))
        _ = try await URLSession.shared.data(for: approval)
    }

    static func service(_ compose: String) -> [String: Any] {
        (((try? Yams.load(yaml: compose)) as? [String: Any])?["services"] as? [String: Any])?[DeploymentCheck.serviceName] as? [String: Any] ?? [:]
    }

    static func launch(_ executable: String, _ arguments: [String], environment: [String: String], output: Pipe? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = output ?? FileHandle.nullDevice
        process.standardError = output ?? FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The port of the daemon's `listening address=HOST:PORT` log line, read from `log` on a thread of its
    /// own (a blocking read must not hold the cooperative pool); `nil` if the output ends first. The
    /// reader keeps draining afterwards, so the daemon never blocks on a full pipe.
    static func listeningPort(in log: Pipe) async -> Int? {
        let (ports, found) = AsyncStream.makeStream(of: Int?.self)
        let reader = log.fileHandleForReading
        Thread.detachNewThread {
            var text = ""
            var reported = false
            while case let chunk = reader.availableData, !chunk.isEmpty {
                guard !reported else { continue }
                text += String(decoding: chunk, as: UTF8.self)
                // swift-log prints the metadata before the message: "… address=127.0.0.1:PORT … listening".
                for line in text.split(separator: "\n") where line.hasSuffix("listening") {
                    if let match = line.firstMatch(of: /address=[0-9.]+:([0-9]+)/), let port = Int(match.1) {
                        found.yield(port)
                        reported = true
                        break
                    }
                }
            }
            found.yield(nil)
            found.finish()
        }
        var iterator = ports.makeAsyncIterator()
        return await iterator.next() ?? nil
    }

    static func get(_ url: String) async throws -> (status: Int, body: String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}

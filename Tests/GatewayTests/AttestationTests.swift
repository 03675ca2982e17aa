import Attestation
import Crypto
import DCAPVerifier
import DevGuestAgent
import Foundation
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

@Suite("Attestation of results, and secrets sealed to the enclave", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct AttestationTests {
    /// A completed job's status reply, as JSON.
    func completedResult(_ daemon: LiveDaemon, _ agent: OAuth3Client, code: String = hello) async throws -> JSONValue {
        let job = try await agent.execute(.init(skillCode: code))
        try await approve(daemon, job)
        let done = try await agent.poll(job.requestId, timeout: .seconds(60))
        #expect(done.status == "completed")
        return try JSONValue(encoding: try #require(done.result))
    }

    /// The committed pin of the development guest agent's measurements (dstack/os/development.json).
    static func developmentPin() throws -> PinnedOS {
        try PinnedOS.decode(Array(try Data(contentsOf: Fixture.repository.appendingPathComponent("dstack/os/development.json"))))
    }

    func verify(_ result: JSONValue, roots: [QuoteVerifier.Root] = [.intel, .development]) async throws -> [QuoteVerifier.Check] {
        let verifier = AttestationVerifier(roots: roots, policies: .enclave(os: .pinned(try Self.developmentPin())))
        return await ResultVerifier.verify(document: result, verifier: verifier, at: Date()).checks
    }

    func failed(_ checks: [QuoteVerifier.Check]) -> [String] { checks.filter { !$0.passed }.map(\.name) }

    /// `result` with `change` applied to its members; an edit that cannot apply fails the test rather than
    /// leaving the result as it was (which would make a tamper test pass for the wrong reason).
    func editing(_ result: JSONValue, _ change: (inout [String: JSONValue]) throws -> Void) throws -> JSONValue {
        guard case .object(var members) = result else { throw EditError("the result is not an object: \(result)") }
        try change(&members)
        let edited = JSONValue.object(members)
        try #require(edited != result, "the edit changed nothing")
        return edited
    }

    /// The object at `key` of `members`, edited by `change`.
    func editingObject(_ members: inout [String: JSONValue], _ key: String, _ change: (inout [String: JSONValue]) throws -> Void) throws {
        guard case .object(var object)? = members[key] else { throw EditError("no object at '\(key)': \(members[key] ?? .null)") }
        try change(&object)
        members[key] = .object(object)
    }

    struct EditError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// SHA-512 and SHA-256 by Python's hashlib, so expected digests do not come from the code under test.
    static func python(_ expression: String, input: [UInt8]) async throws -> String {
        let run = try await Fixture.execute("/usr/bin/python3", ["-c", "import hashlib,sys; data=sys.stdin.buffer.read(); print(\(expression), end='')"], input: input)
        #expect(run.status == 0, "\(run.err)")
        return run.out
    }

    @Test("A result from a live daemon verifies (development root allowed), and names its request and approval")
    func resultVerifies() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let result = try await completedResult(daemon, agent)
        let checks = try await verify(result)
        #expect(failed(checks).isEmpty, "\(checks.filter { !$0.passed })")
        #expect(checks.count >= 11)
        #expect(result["request_id"]?.stringValue?.hasPrefix("exec_") == true && result["approved_by"]?.stringValue == "token")
        #expect(result["attestation"]?["guest_agent"]?.stringValue == "development:\(daemon.agentSocket)")
        // Without the development root, the same quote does not chain to a trusted root.
        let strictFailures = failed(try await verify(result, roots: [.intel]))
        #expect(strictFailures == ["pck_chain"])
    }

    @Test("A job's network transcript reaches the API's result and is covered by its attestation")
    func networkTranscript() async throws {
        let network = try await TestNetwork.shared()
        let daemon = try await LiveDaemon.start(policies: network.policies)
        let (agent, _) = try await daemon.tenant()
        let code = "// @skill fetcher\n// @network api.test:8080\nconsole.log(await (await fetch('http://api.test:8080/hello')).text());\n"
        let result = try await completedResult(daemon, agent, code: code)
        #expect(result["stdout"]?.stringValue == "hello from api.test:8080\n")
        #expect(result["sandbox"]?["network"]?.stringValue == "proxy")
        guard case .array(let connections)? = result["network"]?["connections"], connections.count == 1 else {
            Issue.record("no transcript: \(result["network"] ?? .null)")
            return
        }
        #expect(connections[0]["host"]?.stringValue == "api.test" && connections[0]["address"]?.stringValue == network.api)
        #expect(failed(try await verify(result)).isEmpty)
        let edited = try editing(result) { members in
            try editingObject(&members, "network") { $0["connections"] = .array([]) }
        }
        #expect(failed(try await verify(edited)).contains("result_hash"))
        // The daemon's metrics count it, without naming the host.
        let metrics = try await daemon.raw("GET", "/metrics").body
        #expect(metrics.contains("oauth3_egress_connections_total 1\n"), "\(metrics)")
        #expect(!metrics.contains("api.test"))
    }

    @Test("Changing one byte of stdout, the code hash, or the quote makes verification fail, naming the check")
    func tampering() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let result = try await completedResult(daemon, agent)
        #expect(result["stdout"]?.stringValue == "hello from the enclave\n")
        let stdout = try editing(result) { $0["stdout"] = .string("hello from the enclavf\n") }
        let stdoutFailures = failed(try await verify(stdout))
        #expect(stdoutFailures.contains("result_hash") && stdoutFailures.contains("report_data_binding"))
        let code = try editing(result) { $0["code_sha256"] = .string(String(repeating: "0", count: 64)) }
        let codeFailures = failed(try await verify(code))
        #expect(codeFailures.contains("result_hash"))
        let quote = try editing(result) { members in
            try editingObject(&members, "attestation") { attestation in
                var hex = try #require(attestation["quote"]?.stringValue)
                let index = hex.index(hex.startIndex, offsetBy: 2 * 600)
                hex.replaceSubrange(index...index, with: hex[index] == "0" ? "1" : "0")
                attestation["quote"] = .string(hex)
            }
        }
        let quoteFailures = failed(try await verify(quote))
        #expect(quoteFailures.contains("quote_signature"), "\(quoteFailures)")
        let signature = try editing(result) { members in
            try editingObject(&members, "attestation") { $0["signature"] = .string(String(repeating: "00", count: 64)) }
        }
        let signatureFailures = failed(try await verify(signature))
        #expect(signatureFailures == ["signature"])
    }

    @Test("oauth3-enclave verify on a saved result: exit 0 with --allow-dev-root, 1 without, and after tampering")
    func verifyCommand() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let result = try await completedResult(daemon, agent)
        let file = Fixture.workRoot() + "/result.json"
        try JSONEncoder().encode(["result": result]).write(to: URL(fileURLWithPath: file))
        let pin = Fixture.repository.appendingPathComponent("dstack/os/development.json").path
        let good = try await Fixture.execute(Fixture.enclave, ["verify", file, "--allow-dev-root", "--expect-os", pin])
        #expect(good.status == 0 && good.out.contains("\nVERIFIED\n") && good.out.contains("DEVELOPMENT") && good.out.contains("✔ os_measurements"), "\(good.out)")
        let strict = try await Fixture.execute(Fixture.enclave, ["verify", file, "--json", "--expect-os", pin])
        #expect(strict.status == 1 && strict.out.contains("\"passed\" : false"))
        try JSONEncoder().encode(try editing(result) { $0["stderr"] = .string("x") }).write(to: URL(fileURLWithPath: file))
        let tampered = try await Fixture.execute(Fixture.enclave, ["verify", file, "--allow-dev-root", "--expect-os", pin])
        #expect(tampered.status == 1 && tampered.out.contains("✘ result_hash"))
    }

    /// The ```python block of docs/attestation.md's section on a result's attestation, as an auditor would copy it.
    static func readmeRecipe() throws -> String {
        let readme = try String(contentsOf: Fixture.repository.appendingPathComponent("docs/attestation.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "\n## A result's attestation\n"), "docs/attestation.md has no section on a result's attestation")
        let start = try #require(readme.range(of: "```python\n", range: section.upperBound..<readme.endIndex))
        let end = try #require(readme.range(of: "\n```", range: start.upperBound..<readme.endIndex))
        return String(readme[start.upperBound..<end.lowerBound])
    }

    @Test("docs/attestation.md's Python recipe, run on a status reply saved from a live daemon, recomputes result_sha256 and report_data; a changed byte fails it")
    func readmeRecipeOnLiveResult() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let job = try await agent.execute(.init(skillCode: withSecret.replacingOccurrences(of: "console.log(\"token\", t, t.length)", with: "console.log(\"é ✓ \\u0001\", t.length)")))
        try await approve(daemon, job, secrets: ["API_TOKEN": "recipe"])
        #expect(try await agent.poll(job.requestId, timeout: .seconds(60)).status == "completed")
        // The reply exactly as an agent saves it (`curl … > status.json`).
        let reply = try await daemon.raw("GET", "/execute/\(job.requestId)/status", headers: ["Authorization": "Bearer \(agent.apiKey!)"])
        #expect(reply.status == 200 && reply.body.contains("\"attestation\""))
        let recipe = try Self.readmeRecipe()
        #expect(recipe.contains("hashlib.sha256(canonical)") && recipe.contains("report_data"))
        func runRecipe(on status: String) async throws -> (status: Int32, err: String) {
            let directory = Fixture.workRoot()
            try status.write(toFile: directory + "/status.json", atomically: true, encoding: .utf8)
            let run = try await Fixture.execute(
                "/usr/bin/python3", ["-c", "import os,sys; os.chdir(sys.argv[1]); exec(sys.stdin.read())", directory], input: Array(recipe.utf8))
            return (run.status, run.err)
        }
        let good = try await runRecipe(on: reply.body)
        #expect(good.status == 0, "docs/attestation.md's recipe rejects a genuine result: \(good.err)")
        // Non-ASCII and a control character were in what the recipe hashed.
        let saved = try JSONDecoder().decode(JSONValue.self, from: Data(reply.body.utf8))
        #expect(saved["result"]?["stdout"]?.stringValue == "é ✓ \u{1} 6\n")
        let changed = reply.body.replacingOccurrences(of: "é ✓", with: "e ✓")
        #expect(changed != reply.body)
        let bad = try await runRecipe(on: changed)
        #expect(bad.status != 0 && bad.err.contains("AssertionError"), "\(bad.err)")
    }

    @Test("The canonical encoding is what Python's json.dumps(sort_keys, compact, ensure_ascii=False) gives")
    func canonicalMatchesPython() async throws {
        let value = JSONValue.object([
            "b": .string("é \"quoted\" \\ \n\t\u{01} ✓"), "a": .array([.number(1), .bool(true), .null, .number(-42)]), "Z": .object(["y": .string("")]),
        ])
        let ours = String(decoding: CanonicalJSON.encode(value), as: UTF8.self)
        let script = "import json,sys; print(json.dumps(json.loads(sys.stdin.read()), sort_keys=True, separators=(',', ':'), ensure_ascii=False), end='')"
        let python = try await Fixture.execute("/usr/bin/python3", ["-c", script], input: Array(ours.utf8))
        #expect(python.out == ours)
    }

    @Test("GET /v1/attestation: a fresh quote over the enclave's keys and the nonce, with the application's identity")
    func freshness() async throws {
        let daemon = try await LiveDaemon.start()
        let nonce = "00112233445566778899aabbccddeeff"
        let reply = try await daemon.raw("GET", "/v1/attestation?nonce=\(nonce)")
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(reply.body.utf8))
        let keys = try #require(bytes(fromHex: document["signing_public_key"]?.stringValue ?? "")) + #require(bytes(fromHex: document["hpke_public_key"]?.stringValue ?? ""))
        let quote = try Quote.parse(try #require(bytes(fromHex: document["quote"]?.stringValue ?? "")))
        // Written out from docs/attestation.md, hashed by Python: SHA-512("oauth3-enclave/attestation/v1" NUL ed25519 ‖ x25519 ‖ nonce).
        #expect(keys.count == 64)
        let expected = try await Self.python("hashlib.sha512(data).hexdigest()", input: Array("oauth3-enclave/attestation/v1".utf8) + [0] + keys + bytes(fromHex: nonce)!)
        #expect(quote.reportData.map { String(format: "%02x", $0) }.joined() == expected)
        #expect(document["compose_hash"]?.stringValue == SHA256.hash(data: Data("{\"test\":true}".utf8)).map { String(format: "%02x", $0) }.joined())
        #expect(try await daemon.raw("GET", "/v1/attestation?nonce=zz").status == 400)
        #expect(try await daemon.raw("GET", "/v1/attestation").status == 400)
    }

    @Test("An HPKE-sealed secret round-trips (after the attestation check); tampered, or sealed for another name, it is refused")
    func sealedSecrets() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let composeHash = SHA256.hash(data: Data("{\"test\":true}".utf8)).map { String(format: "%02x", $0) }.joined()
        var expectation = EnclaveExpectation(composeHash: composeHash, os: .pinned(try Self.developmentPin()))
        await #expect { try await agent.putSealedSecret("API_TOKEN", value: "x", expecting: expectation) } throws: { "\($0)".contains("--allow-dev-root") && "\($0)".contains("pck_chain") }
        expectation.allowDevelopmentRoot = true
        try await agent.putSealedSecret("API_TOKEN", value: "sealed-end-to-end", expecting: expectation)
        let job = try await agent.execute(.init(skillCode: withSecret))
        try await approve(daemon, job)
        #expect(try await agent.poll(job.requestId, timeout: .seconds(60)).result?.claims.run.stdout == "token [REDACTED:API_TOKEN] 17\n")

        // Seal by hand to test refusals.
        let nonce = "0011223344556677"
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(try await daemon.raw("GET", "/v1/attestation?nonce=\(nonce)").body.utf8))
        let recipient = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes(fromHex: document["hpke_public_key"]!.stringValue!)!)
        let tenant = try await agent.me().tenantId
        func sealed(for name: String, tamper: Bool = false, sealedHosts: [String]? = nil, sentHosts: [String]? = nil) throws -> Data {
            // The info as docs/attestation.md writes it: "oauth3-enclave/secret/v1" NUL tenant NUL name [NUL "hosts=" hosts joined by commas].
            var info = Data("oauth3-enclave/secret/v1".utf8) + [0] + Data(tenant.utf8) + [0] + Data(name.utf8)
            if let sealedHosts { info += [0] + Data("hosts=\(sealedHosts.joined(separator: ","))".utf8) }
            var sender = try HPKE.Sender(recipientKey: recipient, ciphersuite: .Curve25519_SHA256_ChachaPoly, info: info)
            var ciphertext = Array(try sender.seal(Data("v".utf8)))
            if tamper { ciphertext[0] ^= 1 }
            return try JSONEncoder().encode(
                SecretValue(
                    sealed: SealedValue(enc: sender.encapsulatedKey.map { String(format: "%02x", $0) }.joined(), ciphertext: ciphertext.map { String(format: "%02x", $0) }.joined()),
                    hosts: sentHosts))
        }
        let headers = ["Content-Type": "application/json", "Authorization": "Bearer \(agent.apiKey!)"]
        #expect(try await daemon.raw("PUT", "/secrets/OTHER", body: try sealed(for: "OTHER"), headers: headers).status == 200)
        let moved = try await daemon.raw("PUT", "/secrets/MOVED", body: try sealed(for: "OTHER"), headers: headers)
        #expect(moved.status == 400 && moved.body.contains("cannot open the sealed secret"))
        #expect(try await daemon.raw("PUT", "/secrets/OTHER", body: try sealed(for: "OTHER", tamper: true), headers: headers).status == 400)
        // A bound secret's hosts are sealed with it: a relay can neither change nor strip them.
        let hosts = ["api.github.com"]
        #expect(try await daemon.raw("PUT", "/secrets/BOUND", body: try sealed(for: "BOUND", sealedHosts: hosts, sentHosts: hosts), headers: headers).status == 200)
        let rebound = try await daemon.raw("PUT", "/secrets/BOUND", body: try sealed(for: "BOUND", sealedHosts: hosts, sentHosts: ["evil.example"]), headers: headers)
        #expect(rebound.status == 400 && rebound.body.contains("cannot open the sealed secret"))
        #expect(try await daemon.raw("PUT", "/secrets/BOUND", body: try sealed(for: "BOUND", sealedHosts: hosts), headers: headers).status == 400)
        #expect(try await agent.secrets().secrets.first { $0.name == "BOUND" }?.binding?.hosts == ["api.github.com:443"])
        // The client seals them the same way.
        try await agent.putSealedSecret("CLIENT_BOUND", value: "v", expecting: expectation, hosts: ["*.example.com"])
        #expect(try await agent.secrets().secrets.first { $0.name == "CLIENT_BOUND" }?.binding?.hosts == ["*.example.com:443"])
    }
}

@Suite("The guest-agent client", .timeLimit(.minutes(1)))
struct GuestAgentClientTests {
    @Test("A missing socket is a clear error")
    func missingSocket() async {
        let agent = DstackGuestAgent(socketPath: "/nonexistent/dstack.sock", timeout: .seconds(1))
        await #expect { try await agent.info() } throws: { "\($0)".contains("cannot connect to the guest agent at /nonexistent/dstack.sock") }
    }

    @Test("A slow agent times out; one that answers malformed JSON or an error status is named")
    func badAgents() async throws {
        let directory = Fixture.workRoot()
        for (name, reply, expected) in [
            ("slow", nil, "timed out waiting for the guest agent"),
            ("garbage", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!", "answered malformed JSON"),
            ("error", "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom", "answered HTTP 500: boom"),
            ("chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"ke\r\n0\r\n\r\n", "answered malformed JSON"),
        ] as [(String, String?, String)] {
            let path = directory + "/\(name).sock"
            let server = try FakeAgent(path: path, reply: reply)
            let agent = DstackGuestAgent(socketPath: path, timeout: .milliseconds(500))
            await #expect { try await agent.key(path: "p", purpose: "x") } throws: { "\($0)".contains(expected) }
            server.stop()
        }
    }

    /// dstack's guest agent answers `GetQuote` with `{quote: hex, event_log: "<JSON array as a string>", report_data:
    /// hex, vm_config: "<JSON as a string>"}` and `Info` with identity fields beside `tcb_info` and others as strings.
    /// The reply here is that shape filled with the quote and event log recorded from dstack's own agent
    /// (simulator v0.5.5, `Tests/Vectors/dstack`), so decoding is checked on what the agent really sends, not on our
    /// own encoder's output.
    @Test("A reply in dstack's GetQuote and Info shape, with a recorded quote and event log, decodes and replays")
    func recordedReply() async throws {
        let vectors = Fixture.repository.appendingPathComponent("Tests/Vectors/dstack")
        let quoteHex = try String(contentsOf: vectors.appendingPathComponent("simulator_v055_quote.hex"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let eventLog = try String(contentsOf: vectors.appendingPathComponent("simulator_v055_eventlog.json"), encoding: .utf8)
        let quoteBody = try JSONSerialization.data(withJSONObject: [
            "quote": quoteHex, "event_log": eventLog, "report_data": String(repeating: "00", count: 64),
            "vm_config": #"{"spec_version":1,"os_image_hash":"","cpu_count":2,"memory_size":2147483648}"#,
        ])
        let directory = Fixture.workRoot()
        let quoteServer = try FakeAgent(path: directory + "/quote.sock", reply: Self.httpReply(quoteBody))
        defer { quoteServer.stop() }
        let reply = try await DstackGuestAgent(socketPath: directory + "/quote.sock").quote(reportData: [1, 2, 3])
        #expect(reply.eventLogJSON == eventLog)
        let quote = try Quote.parse(reply.quote)
        guard case .td(let report) = quote.body else { Issue.record("not a TD body"); return }
        #expect(try EventLog.replay(EventLog.decode(Array(reply.eventLogJSON.utf8))) == report.rtmrs)

        let infoBody = try JSONSerialization.data(withJSONObject: [
            "app_id": "ea549f02e1a25fabd1cb788380e033ec5461b2ff", "instance_id": "59df8036b824b0aac54f8998b9e1fb2a0cfc5d3a",
            "app_cert": "-----BEGIN CERTIFICATE-----\n…", "tcb_info": #"{"mrtd":"00","rtmr0":"00","event_log":[]}"#,
            "app_name": "oauth3-enclave", "device_id": "", "key_provider_info": #"{"name":"kms","id":"00"}"#,
            "compose_hash": String(repeating: "ab", count: 32), "os_image_hash": "", "vm_config": "{}",
        ])
        let infoServer = try FakeAgent(path: directory + "/info.sock", reply: Self.httpReply(infoBody))
        defer { infoServer.stop() }
        let info = try await DstackGuestAgent(socketPath: directory + "/info.sock").info()
        #expect(info == GuestInfo(appID: "ea549f02e1a25fabd1cb788380e033ec5461b2ff", instanceID: "59df8036b824b0aac54f8998b9e1fb2a0cfc5d3a",
                                  composeHash: String(repeating: "ab", count: 32), appName: "oauth3-enclave"))
    }

    private static func httpReply(_ body: Data) -> String {
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n" + String(decoding: body, as: UTF8.self)
    }
}

/// A unix-socket server that answers every connection with `reply` (or never, when `nil`).
///
/// `stop()` waits for the serving thread to end before it closes the socket: closed first, its number could go to
/// the next FakeAgent's socket, and this thread's next `accept` would answer that agent's clients (seen as a
/// "slow" or "garbage" case getting another case's reply).
final class FakeAgent: @unchecked Sendable {
    private let fd: Int32
    private let thread: Thread
    private let ended = DispatchSemaphore(value: 0)

    init(path: String, reply: String?) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        listen(fd, 4)
        self.fd = fd
        let ended = self.ended
        thread = Thread {
            while case let client = accept(fd, nil, nil), client >= 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = read(client, &buffer, buffer.count)
                if let reply {
                    _ = reply.withCString { write(client, $0, strlen($0)) }
                    close(client)
                } else {
                    Thread.sleep(forTimeInterval: 2)
                    close(client)
                }
            }
            ended.signal()
        }
        thread.start()
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        ended.wait()
        close(fd)
    }
}

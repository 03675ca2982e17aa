import Attestation
import Crypto
import DCAPVerifier
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OAuth3Client
import OAuth3Wire
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

/// An auditor's verdict nobody can steer: identity only from boot, the OS pinned, one strict JSON reading,
/// and secrets sealed only to the application meant. Results and quotes come from the development authority
/// in process (the same code the daemon runs), with events or measurements changed as an attacker would.
@Suite("An auditor's verdict nobody can steer", .serialized, .timeLimit(.minutes(2)))
struct AuditorVerdictTests {
    static let developmentPin = Fixture.repository.appendingPathComponent("dstack/os/development.json").path
    static let appCompose = Array("{\"test\":true}".utf8)
    static var composeHash: String { SHA256.hash(data: appCompose).map { String(format: "%02x", $0) }.joined() }

    static func authority(seed: UInt8 = 7, events: [DevelopmentAuthority.RuntimeEvent] = [], appCompose: [UInt8] = appCompose) throws -> DevelopmentAuthority {
        var authority = try DevelopmentAuthority(seed: Array(repeating: seed, count: 32), appCompose: appCompose)
        authority.applicationEvents = events
        return authority
    }

    func verify(_ arguments: [String]) async throws -> (status: Int32, out: String) {
        let run = try await Fixture.execute(Fixture.enclave, ["verify"] + arguments)
        return (run.status, run.out + run.err)
    }

    /// Writes `text` to a fresh file and returns its path.
    func file(_ text: String, _ name: String) throws -> String {
        let path = Fixture.workRoot() + "/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The claims of a job that printed `stdout`, approved by token: every field a result has.
    static func claims(stdout: String = "hello\n") -> ResultClaims {
        let run = RunResult(
            success: true, status: "completed", outcome: .ok, exitCode: 0, signal: nil, stdout: stdout, stderr: "", stdoutTruncated: false,
            stderrTruncated: false, duration: 12, skill: "hello", codeSHA256: String(repeating: "c", count: 64), granted: .init(net: [], env: []),
            timeoutSeconds: 30, denoVersion: "2.9.0", policySHA256: String(repeating: "p", count: 64), warnings: [], error: nil,
            memPeakBytes: nil, cpuUserMs: nil, cpuSysMs: nil, sandbox: .init(userNamespace: true, cgroups: "v2", network: "loopback", seccomp: true),
            network: nil)
        let consent = RunConsent(approval: ApprovalRecord(method: .token, at: 2), args: [:], createdAt: 1, approvedAt: 2, startedAt: 3, finishedAt: 4)
        return ResultClaims(run: run, requestId: "exec_0123456789abcdef", approvedBy: "token", approvalDetail: nil, consent: consent)
    }

    /// A result attested by `authority`, as the status reply carries it, written to a file.
    func attestedResult(_ authority: DevelopmentAuthority) async throws -> String {
        let attestor = try await Attestor(agent: InProcessDevelopmentAgent(authority: authority))
        let claims = Self.claims()
        let result = AttestedResult(claims: claims, attestation: try await attestor.attest(claims))
        return try file(String(decoding: CanonicalJSON.encode(.object(["result": try JSONValue(encoding: result)])), as: UTF8.self), "result-\(UUID().uuidString).json")
    }

    @Test("A compose-hash the application adds after system-ready replays, but never is the compose hash: the verdict names it")
    func lateComposeHash() async throws {
        let target = String(repeating: "ab", count: 32)
        let authority = try Self.authority(events: [.init(name: "compose-hash", payload: bytes(fromHex: target)!)])
        let reply = try authority.quote(reportData: [])
        let quote = try file(reply.quote.map { String(format: "%02x", $0) }.joined(), "late-quote.hex")
        let log = try file(reply.eventLogJSON, "late-log.json")
        let common = ["--quote", quote, "--event-log", log, "--allow-dev-root", "--expect-os", Self.developmentPin]
        let forged = try await verify(common + ["--expect-compose-hash", target])
        #expect(forged.status == 1, "\(forged.out)")
        #expect(forged.out.contains("✔ event_log_replay") && forged.out.contains("runtime events (not identity): compose-hash (after system-ready)"), "\(forged.out)")
        #expect(forged.out.contains("✘ compose_hash: the boot event log states compose hash \(Self.composeHash); expected \(target); ignored as runtime events, not identity: compose-hash (after system-ready)"), "\(forged.out)")
        let real = try await verify(common + ["--expect-compose-hash", Self.composeHash])
        #expect(real.status == 0 && real.out.contains("✔ compose_hash") && real.out.contains("\nVERIFIED\n"), "\(real.out)")
    }

    @Test("A result verifies only against its OS: pinned passes; no pin is NOT VERIFIED: OS not pinned; the opt-out is loud; a changed RTMR fails")
    func osPin() async throws {
        let result = try await attestedResult(try Self.authority())
        let pinned = try await verify([result, "--allow-dev-root", "--expect-os", Self.developmentPin, "--compose", try file("{\"test\":true}", "app-compose.json")])
        #expect(pinned.status == 0 && pinned.out.contains("✔ os_measurements: MRTD and RTMR0–2 are those of development") && pinned.out.contains("\nVERIFIED\n"), "\(pinned.out)")
        let unpinned = try await verify([result, "--allow-dev-root"])
        #expect(unpinned.status == 1 && unpinned.out.contains("✘ os_measurements: OS not pinned") && unpinned.out.hasSuffix("NOT VERIFIED: OS not pinned\n"), "\(unpinned.out)")
        let accepted = try await verify([result, "--allow-dev-root", "--accept-unpinned-os"])
        #expect(accepted.status == 0 && accepted.out.contains("⚠️  --accept-unpinned-os") && accepted.out.contains("VERIFIED, BUT THE OS IS NOT PINNED"), "\(accepted.out)")
        #expect(try await verify([result, "--expect-os", Self.developmentPin, "--accept-unpinned-os"]).status != 0)
        for register in ["mrtd", "rtmr0", "rtmr1", "rtmr2"] {
            var pin = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.developmentPin))) as? [String: Any])
            var value = try #require(pin[register] as? [String: Any])
            value["hex"] = String(repeating: "11", count: 48)
            pin[register] = value
            let other = try file(String(decoding: try JSONSerialization.data(withJSONObject: pin), as: UTF8.self), "pin-\(register).json")
            let run = try await verify([result, "--allow-dev-root", "--expect-os", other])
            #expect(run.status == 1 && run.out.contains("✘ os_measurements: not the pinned OS: \(register.uppercased()) is "), "\(register): \(run.out)")
        }
    }

    /// An app-compose.json (as `oauth3-enclave app-compose` writes it) whose compose file names `release`.
    static func appCompose(naming release: String, comment: String = "") -> [UInt8] {
        AppCompose(name: "oauth3-enclave", dockerComposeFile: "# \(comment)\nx-oauth3-dstack-os: \(release)\nservices: {}\n", allowedEnvs: []).encoded
    }

    /// A pin directory holding the committed development pin, as `development.json`.
    static func pinDirectory() throws -> String {
        let directory = Fixture.workRoot() + "/os"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.developmentPin, toPath: directory + "/development.json")
        return directory
    }

    @Test("--os-pins with --compose selects the pin of the release the booted compose names, and compares the OS with it")
    func osSelectedByCompose() async throws {
        let compose = Self.appCompose(naming: "development")
        let result = try await attestedResult(try Self.authority(appCompose: compose))
        let composeFile = try file(String(decoding: compose, as: UTF8.self), "app-compose-\(UUID().uuidString).json")
        let run = try await verify([result, "--allow-dev-root", "--compose", composeFile, "--os-pins", try Self.pinDirectory(), "--json"])
        #expect(run.status == 0 && run.out.contains("\"os_pinned\" : \"development\""), "\(run.out)")
        let text = try await verify([result, "--allow-dev-root", "--compose", composeFile, "--os-pins", try Self.pinDirectory()])
        #expect(text.out.contains("✔ os_measurements: MRTD and RTMR0–2 are those of development") && text.out.contains("✔ compose_hash"), "\(text.out)")
        // The same directory with a pin whose RTMR1 differs: the selected pin is the one compared.
        let directory = try Self.pinDirectory()
        var pin = try SealingRefusalTests.developmentPin()
        pin.rtmr1 = .init(hex: String(repeating: "11", count: 48), source: "test: another RTMR1")
        try JSONEncoder().encode(pin).write(to: URL(fileURLWithPath: directory + "/development.json"))
        let changed = try await verify([result, "--allow-dev-root", "--compose", composeFile, "--os-pins", directory])
        #expect(changed.status == 1 && changed.out.contains("✘ os_measurements: not the pinned OS: RTMR1 is "), "\(changed.out)")
    }

    @Test("A release the booted compose names with no pin in the directory: NOT VERIFIED: OS not pinned (release X has no pin in DIR)")
    func osReleaseWithoutPin() async throws {
        let compose = Self.appCompose(naming: "dstack-9.9.9")
        let result = try await attestedResult(try Self.authority(appCompose: compose))
        let composeFile = try file(String(decoding: compose, as: UTF8.self), "app-compose-\(UUID().uuidString).json")
        let directory = try Self.pinDirectory()
        let run = try await verify([result, "--allow-dev-root", "--compose", composeFile, "--os-pins", directory])
        #expect(run.status == 1 && run.out.hasSuffix("NOT VERIFIED: OS not pinned (release dstack-9.9.9 has no pin in \(directory))\n"), "\(run.out)")
        // An explicit pin file wins over the directory.
        let explicit = try await verify([result, "--allow-dev-root", "--compose", composeFile, "--os-pins", directory, "--expect-os", Self.developmentPin])
        #expect(explicit.status == 0 && explicit.out.contains("✔ os_measurements: MRTD and RTMR0–2 are those of development"), "\(explicit.out)")
    }

    @Test("An app compose that is not the booted one is refused before any release is read from it")
    func composeNotBooted() async throws {
        let booted = Self.appCompose(naming: "dstack-9.9.9")
        let result = try await attestedResult(try Self.authority(appCompose: booted))
        // Names a release that has a pin, but is not what the TD booted.
        let other = Self.appCompose(naming: "development", comment: "not the booted compose")
        let composeFile = try file(String(decoding: other, as: UTF8.self), "app-compose-\(UUID().uuidString).json")
        let run = try await verify([result, "--allow-dev-root", "--compose", composeFile, "--os-pins", try Self.pinDirectory()])
        let otherHash = SHA256.hash(data: other).map { String(format: "%02x", $0) }.joined()
        let bootedHash = SHA256.hash(data: booted).map { String(format: "%02x", $0) }.joined()
        #expect(run.status == 1, "\(run.out)")
        #expect(run.out.contains("✘ os_measurements: no OS selected: the app compose given hashes to \(otherHash), but the TD booted compose hash \(bootedHash)"), "\(run.out)")
        #expect(run.out.contains("✘ compose_hash") && !run.out.contains("are those of development"), "\(run.out)")
        // --os-pins without the app compose is a usage error, not a silent miss.
        let usage = try await verify([result, "--allow-dev-root", "--os-pins", try Self.pinDirectory()])
        #expect(usage.status != 0 && usage.out.contains("give --compose FILE too"), "\(usage.out)")
    }

    @Test("A member the result format does not have, in the attestation or the claims, fails result_format, naming it")
    func unknownMembers() async throws {
        let path = try await attestedResult(try Self.authority())
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let control = try await verify([path, "--allow-dev-root", "--expect-os", Self.developmentPin])
        #expect(control.status == 0 && control.out.contains("✔ result_format"), "\(control.out)")
        for (edit, member) in [
            ("\"attestation\":{", "attestation.app_id"), ("\"sandbox\":{", "sandbox.privileged"), ("{\"result\":{", "verified"),
        ] {
            let key = member.split(separator: ".").last!
            let added = text.replacingOccurrences(of: edit, with: edit + "\"\(key)\":true,")
            #expect(added != text, "\(edit)")
            let run = try await verify([try file(added, "added-\(key).json"), "--allow-dev-root", "--expect-os", Self.developmentPin])
            #expect(run.status == 1 && run.out.contains("✘ result_format: not a result of this format: \(member) is not a member of the result format"), "\(run.out)")
        }
        // A member the format writes as null, left out: the hash would be over other bytes than those given.
        let missing = text.replacingOccurrences(of: "\"signal\":null,", with: "")
        #expect(missing != text)
        let run = try await verify([try file(missing, "missing-signal.json"), "--allow-dev-root", "--expect-os", Self.developmentPin])
        #expect(run.status == 1 && run.out.contains("✘ result_format: not a result of this format: signal is missing"), "\(run.out)")
    }

    /// A result policy as a consent check would be one: it reads the signed members.
    struct StdoutPolicy: ResultPolicy {
        let expected: String
        var name: String { "stdout_is" }
        func evaluate(_ claims: ResultClaims) -> PolicyVerdict {
            claims.run.stdout == expected ? .meetsPolicy("stdout is \(expected)") : .failsToMeetPolicy(reason: "stdout is not \(expected)")
        }
    }

    @Test("A result policy is one more check: only a result meeting every policy becomes a VerifiedResult")
    func resultPolicy() async throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: try await attestedResult(try Self.authority())))
        let result = try #require(try StrictJSON.decode(JSONValue.self, from: data)["result"])
        let verifier = AttestationVerifier(
            roots: [.development], policies: .enclave(os: .pinned(try SealingRefusalTests.developmentPin()), composeHash: Self.composeHash))
        let met = await ResultVerifier.verify(document: result, verifier: verifier, resultPolicies: [StdoutPolicy(expected: "hello\n")], at: Date())
        #expect(met.verified?.claims.run.stdout == "hello\n" && met.verified?.attestation.identity?.composeHash == Self.composeHash, "\(met.checks.filter { !$0.passed })")
        let failed = await ResultVerifier.verify(document: result, verifier: verifier, resultPolicies: [StdoutPolicy(expected: "other")], at: Date())
        #expect(failed.verified == nil && failed.checks.filter { !$0.passed }.map(\.name) == ["stdout_is"])
    }

    @Test("A result with a duplicated key is refused before any check, naming the key and where")
    func duplicateKeyResult() async throws {
        let path = try await attestedResult(try Self.authority())
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let doubled = text.replacingOccurrences(of: "\"stdout\":\"hello\\n\"", with: "\"stdout\":\"hello\\n\",\"stdout\":\"forged\\n\"")
        #expect(doubled != text)
        let run = try await verify([try file(doubled, "doubled.json"), "--allow-dev-root", "--expect-os", Self.developmentPin])
        #expect(run.status != 0 && run.out.contains("is not strict JSON: duplicate key \"stdout\" at byte"), "\(run.out)")
        // The event log inside a result is held to the same reading: a key twice there fails the replay check.
    }
}

@Suite("Sealing only to the application meant", .serialized, .timeLimit(.minutes(2)))
struct SealingRefusalTests {
    /// Serves an attestation by `authority`'s enclave (minus its event log when `dropEventLog`) and runs `body`
    /// with a client pointed at it; returns how many secrets reached the relay.
    func withRelay(_ authority: DevelopmentAuthority, dropEventLog: Bool = false, _ body: (OAuth3Client) async throws -> Void) async throws -> Int {
        let attestor = try await Attestor(agent: InProcessDevelopmentAgent(authority: authority))
        let received = RelayCounter()
        let router = Router()
        router.get("/v1/attestation") { request, _ -> Response in
            let nonce = bytes(fromHex: request.uri.queryParameters.get("nonce") ?? "") ?? []
            guard case .object(var document) = try await attestor.freshAttestation(nonce: nonce) else { return Response(status: .internalServerError) }
            if dropEventLog { document.removeValue(forKey: "event_log") }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: CanonicalJSON.encode(.object(document)))))
        }
        router.get("/me") { _, _ in try Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(TenantInfo(tenantId: "t", name: nil, plan: "free", authentication: "api_key", createdAt: 0, secrets: 0, jobs: 0))))) }
        router.put("/secrets/:name") { _, _ -> Response in
            received.increment()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let (ports, signal) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { signal.yield($0.localAddress?.port ?? 0) }, logger: Logger(label: "relay"))
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "relay")))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        do {
            try await body(OAuth3Client(baseURL: URL(string: "http://127.0.0.1:\(port)")!, apiKey: "k"))
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        return received.value
    }

    static func developmentPin() throws -> PinnedOS {
        try PinnedOS.decode(Array(try Data(contentsOf: URL(fileURLWithPath: AuditorVerdictTests.developmentPin))))
    }

    func expectation(appID: String? = nil, composeHash: String? = AuditorVerdictTests.composeHash, os: OSExpectation? = nil) throws -> EnclaveExpectation {
        EnclaveExpectation(composeHash: composeHash, appID: appID, os: try os ?? .pinned(Self.developmentPin()), allowDevelopmentRoot: true)
    }

    @Test("The enclave meant gets the secret (the control)")
    func control() async throws {
        let authority = try AuditorVerdictTests.authority()
        let expected = try expectation(appID: authority.info.appID)
        let received = try await withRelay(authority) { client in try await client.putSealedSecret("S", value: "v", expecting: expected) }
        #expect(received == 1)
    }

    @Test("No event log: refused, nothing sent")
    func noEventLog() async throws {
        let expected = try expectation()
        let received = try await withRelay(try AuditorVerdictTests.authority(), dropEventLog: true) { client in
            await #expect { try await client.putSealedSecret("S", value: "v", expecting: expected) } throws: { "\($0)".contains("event_log_replay: no event log") }
        }
        #expect(received == 0)
    }

    @Test("Another app id: refused, nothing sent")
    func otherApp() async throws {
        let meant = try AuditorVerdictTests.authority(seed: 1)
        let expected = try expectation(appID: meant.info.appID)
        let received = try await withRelay(try AuditorVerdictTests.authority(seed: 2)) { client in
            await #expect { try await client.putSealedSecret("S", value: "v", expecting: expected) } throws: { "\($0)".contains("app_id: the boot event log states app id") }
        }
        #expect(received == 0)
    }

    @Test("The OS the enclave's booted compose names (--os-pins with --compose): sealed when it matches its pin; a release with no pin: refused, nothing sent")
    func osSelectedByCompose() async throws {
        for (release, seals) in [("development", true), ("dstack-9.9.9", false)] {
            let compose = AuditorVerdictTests.appCompose(naming: release)
            let os = try OSExpectation.fromOptions(pinFile: nil, pinDirectory: try AuditorVerdictTests.pinDirectory(), appCompose: compose, acceptUnpinned: false)
            let expected = EnclaveExpectation(composeHash: ComposeHash.of(compose).hexString, os: os, allowDevelopmentRoot: true)
            let received = try await withRelay(try AuditorVerdictTests.authority(appCompose: compose)) { client in
                if seals {
                    try await client.putSealedSecret("S", value: "v", expecting: expected)
                } else {
                    await #expect { try await client.putSealedSecret("S", value: "v", expecting: expected) } throws: {
                        "\($0)".contains("OS not pinned (release dstack-9.9.9 has no pin in ")
                    }
                }
            }
            #expect(received == (seals ? 1 : 0), "\(release)")
        }
    }

    @Test("Another OS: refused, nothing sent; no OS pin at all: refused too")
    func otherOS() async throws {
        var other = try Self.developmentPin()
        other.mrtd = .init(hex: String(repeating: "22", count: 48), source: "test: another release")
        let wrongOS = try expectation(os: .pinned(other))
        var noOS = try expectation()
        noOS.os = nil
        let received = try await withRelay(try AuditorVerdictTests.authority()) { client in
            await #expect { try await client.putSealedSecret("S", value: "v", expecting: wrongOS) } throws: { "\($0)".contains("os_measurements: not the pinned OS: MRTD is") }
            await #expect { try await client.putSealedSecret("S", value: "v", expecting: noOS) } throws: { "\($0)".contains("os_measurements: OS not pinned") }
        }
        #expect(received == 0)
    }

    @Test("No application named: refused before the relay is even asked")
    func unnamed() async throws {
        let received = try await withRelay(try AuditorVerdictTests.authority()) { client in
            await #expect { try await client.putSealedSecret("S", value: "v", expecting: try expectation(composeHash: nil)) } throws: { "\($0)".contains("sealing needs the application you mean") }
        }
        #expect(received == 0)
    }
}

/// A count shared with request handlers.
final class RelayCounter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

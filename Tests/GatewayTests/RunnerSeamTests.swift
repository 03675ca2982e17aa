import Attestation
import DCAPVerifier
import Foundation
import Gateway
import HTTPTypes
import OAuth3Wire
import Sandbox
import SkillManifest
import TestSupport
import Testing

/// The API's job flow through the ``JobRunner`` seam: real routes, scheduler, store, vault and
/// attestation (the development guest agent in process), a scripted runner in place of the jail and
/// Deno. Fast and unprivileged; the live-daemon suites (ExecutionFlowTests and others) keep the real path.
@Suite("Routes through the runner seam, with a scripted runner", .timeLimit(.minutes(1)))
struct RunnerSeamTests {
    static let hello = """
        // @skill hello
        // @description says hello
        console.log("hello")
        """

    /// Completes every job, saying which skill ran.
    static let completes: ScriptedRunner.Script = { job, runner in .scripted(for: job, runner: runner, stdout: "ran \(job.manifest.skill)\n") }

    @Test("submit → approve → completed: the runner gets the job once, the result is attested and verifies offline")
    func submitApproveResult() async throws {
        try await RoutedGateway.with(script: { job, runner in
            let args = job.arguments.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: ",")
            return .scripted(for: job, runner: runner, stdout: "args \(args)\n")
        }) { gateway in
            let key = try await gateway.signup()
            let submitted = try await gateway.execute(Self.hello, args: ["MODE": .string("fast")], key: key)
            #expect(submitted.status == "pending")
            #expect(gateway.runner.received.all.isEmpty, "nothing runs before approval")
            let decided = try await gateway.decide(submitted)
            #expect(decided.status == .ok && decided.body.contains("approved"), "\(decided.body)")
            let done = try await gateway.final(submitted.requestId, key: key)
            #expect(done.status == "completed" && done.approvedBy == "token")
            let result = try #require(done.result)
            #expect(result.claims.run.stdout == "args MODE=fast\n")
            #expect(result.claims.requestId == submitted.requestId && result.claims.consent.args == ["MODE": "fast"])
            let received = gateway.runner.received.all
            #expect(received.count == 1 && received.first.map { String(decoding: $0.source, as: UTF8.self) } == Self.hello)

            // Bound to a quote by the development agent: the served document verifies offline, event log and OS pin included.
            let verifier = AttestationVerifier(roots: [.development], policies: .enclave(os: .pinned(try AttestationTests.developmentPin())))
            let verdict = await ResultVerifier.verify(document: try JSONValue(encoding: result), verifier: verifier, at: Date())
            let failed = verdict.checks.filter { !$0.passed }
            #expect(failed.isEmpty, "\(failed)")
            #expect(verdict.checks.contains { $0.name == "result_hash" } && verdict.checks.contains { $0.name == "signature" })
        }
    }

    @Test("A held long-poll answers when the runner finishes, not at its limit")
    func longPollWakesOnFinish() async throws {
        let (started, startedSignal) = AsyncStream.makeStream(of: Void.self)
        let gate = Gate()
        try await RoutedGateway.with(script: { job, runner in
            startedSignal.yield()
            await gate.wait()
            return .scripted(for: job, runner: runner, stdout: "late\n")
        }) { gateway in
            let key = try await gateway.signup()
            let submitted = try await gateway.execute(Self.hello, key: key)
            _ = try await gateway.decide(submitted)
            var iterator = started.makeAsyncIterator()
            _ = await iterator.next()
            #expect(try await gateway.status(submitted.requestId, key: key).status == "executing")
            let clock = ContinuousClock()
            let asked = clock.now
            async let held = gateway.status(submitted.requestId, key: key, wait: true, timeout: 30)
            try await waitUntil("the long-poll is held") { await gateway.service.events.heldTotal == 1 }
            await gate.open()
            let reply = try await held
            #expect(reply.status == "completed" && reply.result?.claims.run.stdout == "late\n")
            #expect(asked.duration(to: clock.now) < .seconds(15), "answered at the finish, well before the 30 s hold")
        }
    }

    @Test("A job that ran past its limit fails as timeout, with the limit in its error and an attested result")
    func timeout() async throws {
        try await RoutedGateway.with(script: { job, runner in
            .scripted(for: job, runner: runner, outcome: .timeout, exitCode: nil, stderr: "killed at the limit")
        }) { gateway in
            let key = try await gateway.signup()
            let code = "// @skill slow\n// @timeout 7\nawait new Promise(() => {})\n"
            let submitted = try await gateway.execute(code, key: key)
            _ = try await gateway.decide(submitted)
            let done = try await gateway.final(submitted.requestId, key: key)
            #expect(done.status == "failed")
            #expect(done.error == "the skill ran past its 7 s limit")
            #expect(done.result?.claims.run.outcome == .timeout && done.result?.claims.run.timeoutSeconds == 7)
        }
    }

    @Test("A runner that throws: the job fails as sandbox_error with the reason, and the failure is counted")
    func runnerThrows() async throws {
        struct NoJail: Error, CustomStringConvertible { var description: String { "no jail for you" } }
        try await RoutedGateway.with(script: { _, _ in throw NoJail() }) { gateway in
            let key = try await gateway.signup()
            let submitted = try await gateway.execute(Self.hello, key: key)
            _ = try await gateway.decide(submitted)
            let done = try await gateway.final(submitted.requestId, key: key)
            #expect(done.status == "failed" && done.error == "no jail for you" && done.result == nil)
            let metrics = try await gateway.send(.get, "/metrics")
            #expect(metrics.body.contains("oauth3_sandbox_failures_total{stage=\"runner\"} 1"), "\(metrics.body)")
        }
    }

    @Test("Refusals never reach the runner: a denied job, a header over the policy, a missing credential")
    func refusals() async throws {
        try await RoutedGateway.with(script: Self.completes) { gateway in
            let policy = gateway.runner.policy
            let key = try await gateway.signup()
            let submitted = try await gateway.execute(Self.hello, key: key)
            let denied = try await gateway.decide(submitted, "deny")
            #expect(denied.status == .ok)
            #expect(try await gateway.status(submitted.requestId, key: key).status == "denied")
            let again = try await gateway.decide(submitted)
            #expect(again.body.contains("denied"), "\(again.body)")

            let over = "// @skill long\n// @timeout \(policy.manifest.maxTimeoutSeconds + 1)\n"
            let refused = try await gateway.send(.post, "/execute", json: ExecuteRequest(skillCode: over), key: key)
            #expect(refused.status == .badRequest && refused.body.contains("timeout"), "\(refused.body)")

            let anonymous = try await gateway.send(.post, "/execute", json: ExecuteRequest(skillCode: Self.hello))
            #expect(anonymous.status == .unauthorized && anonymous.body.contains("Authorization"), "\(anonymous.body)")
            #expect(gateway.runner.received.all.isEmpty)
        }
    }

    @Test("A secret stored sealed reaches the runner opened, for the job that declares it and no other")
    func secretsCrossTheSeam() async throws {
        try await RoutedGateway.with(script: Self.completes) { gateway in
            let key = try await gateway.signup()
            let value = "opened-\(UUID().uuidString)"
            let stored = try await gateway.send(.put, "/secrets/API_TOKEN", json: SecretValue(value: value), key: key)
            #expect(stored.status == .ok && !stored.body.contains(value), "\(stored.body)")
            for code in ["// @skill secretive\n// @secrets API_TOKEN\n", Self.hello] {
                let job = try await gateway.execute(code, key: key)
                _ = try await gateway.decide(job)
                #expect(try await gateway.final(job.requestId, key: key).status == "completed")
            }
            let received = gateway.runner.received.all
            #expect(received.count == 2)
            let name = try SecretName.validate("API_TOKEN").get()
            #expect(received.first?.secrets[name] == value)
            #expect(received.last?.secrets.isEmpty == true)
        }
    }

    @Test("/healthz and /readyz describe the runner the gateway was given")
    func healthDescribesRunner() async throws {
        try await RoutedGateway.with(script: Self.completes) { gateway in
            let policy = try PolicySet.load(from: Fixture.policies)
            let health = try await gateway.decoded(HealthReport.self, .get, "/healthz")
            #expect(health.denoVersion == "scripted 0.0.0" && health.cgroups == "none" && health.userNamespace == false)
            #expect(health.policySha256 == policy.sha256)
            let ready = try await gateway.send(.get, "/readyz")
            #expect(ready.status == .ok && ready.body.contains("deno scripted 0.0.0"), "\(ready.body)")
        }
    }
}

/// Lets a scripted run finish when the test says so.
actor Gate {
    private var opened = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if opened { return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func open() {
        opened = true
        for waiter in waiting { waiter.resume() }
        waiting = []
    }
}

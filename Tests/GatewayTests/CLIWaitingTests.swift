import Foundation
import Gateway
import OAuth3Client
import OAuth3Wire
import Subprocess
import SystemPackage
import TestSupport
import Testing

/// How the `oauth3` CLI waits, and what it answers, as the SDK's CLI (oauth3-skill v0.2.0) does: the
/// real binary against a live daemon.
@Suite("The oauth3 CLI while it waits, and its exit codes", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct CLIWaitingTests {
    func environment(_ daemon: LiveDaemon, key: String) -> [String: String] {
        ["HOME": Fixture.workRoot(), "OAUTH3_URL": daemon.url.absoluteString, "OAUTH3_API_KEY": key, "PATH": "/usr/bin:/bin"]
    }

    /// CPU time (user + system) a process has used so far, from `/proc/PID/stat` (fields 14 and 15, in clock ticks).
    static func cpuSeconds(of pid: pid_t) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        let ticks = Double(fields[11])! + Double(fields[12])!  // fields 14 and 15 of the whole line
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test("A waiting `oauth3 poll` costs next to no CPU: under 0.25 CPU-seconds over 3 s of a held long-poll")
    func waitingCostsNoCPU() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let job = try await agent.execute(.init(skillCode: hello))
        let result = try await Subprocess.run(
            .path(FilePath(Fixture.oauth3)), arguments: ["poll", job.requestId, "--timeout", "60"],
            environment: .custom(environment(daemon, key: agent.apiKey!).map { Array("\($0.key)=\($0.value)\0".utf8) }),
            input: .none, output: .string(limit: 1 << 20), error: .discarded
        ) { execution -> Double in
            let pid = execution.processIdentifier.value
            // Ready: the daemon holds the CLI's long-poll.
            try await waitUntil("the daemon holds the CLI's long-poll") { await daemon.service.events.heldTotal >= 1 }
            let before = try Self.cpuSeconds(of: pid)
            try await Task.sleep(for: .seconds(3))  // the measured window, not a wait for readiness
            let used = try Self.cpuSeconds(of: pid) - before
            try await approve(daemon, job)
            return used
        }
        let used = result.closureResult
        // Foundation's URLSession used about 0.6 CPU-seconds a second here (1.8 s in this window).
        #expect(used < 0.25, "the waiting CLI used \(used) CPU-seconds in 3 s")
        #expect(result.terminationStatus == .exited(0), "approved while it waited, the poll ends completed")
        #expect(try JSONDecoder().decode(ExecutionStatus.self, from: Data(result.standardOutput.utf8)).status == "completed")
    }

    @Test("poll --timeout 3 returns within a few seconds (the enclave holds each poll only as long as asked), status timeout, exit 1")
    func pollTimeout() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let job = try await agent.execute(.init(skillCode: hello))
        let started = ContinuousClock.now
        let run = try await oauth3(["poll", job.requestId, "--timeout", "3"], environment: environment(daemon, key: agent.apiKey!))
        let took = ContinuousClock.now - started
        #expect(took >= .seconds(3) && took < .seconds(8), "took \(took); the enclave's own limit is 120 s")
        #expect(run.status == 1)
        let status = try JSONDecoder().decode(ExecutionStatus.self, from: Data(run.out.utf8))
        #expect(status.status == "timeout" && status.requestId == job.requestId)
    }

    @Test("The enclave holds a status request for min(its limit, ?timeout=)")
    func serverCapsHold() async throws {
        let daemon = try await LiveDaemon.start { $0.longPollSeconds = 2 }
        let (agent, _) = try await daemon.tenant()
        let job = try await agent.execute(.init(skillCode: hello))
        for (asked, expected) in [(1, 1), (30, 2)] {
            let started = ContinuousClock.now
            let reply = try await agent.status(job.requestId, holdingUpTo: .seconds(asked))
            let took = ContinuousClock.now - started
            #expect(reply.status == "pending")
            #expect(took >= .seconds(expected) && took < .seconds(expected) + .milliseconds(1500), "asked \(asked) s, held \(took)")
        }
    }

    @Test("status exits 0 for every status it could read, and 1 only when it could not read one")
    func statusExitCodes() async throws {
        let daemon = try await LiveDaemon.start { $0.workers = 1 }
        let (agent, _) = try await daemon.tenant()
        let env = environment(daemon, key: agent.apiKey!)
        var seen: [String: ExecutionStatus] = [:]
        func check(_ id: String) async throws {
            let run = try await oauth3(["status", id], environment: env)
            #expect(run.status == 0, "\(run.out) \(run.err)")
            let status = try JSONDecoder().decode(ExecutionStatus.self, from: Data(run.out.utf8))
            seen[status.status] = status
        }

        let pending = try await agent.execute(.init(skillCode: hello))
        try await check(pending.requestId)
        try await check(try await agent.scope(.init(description: "read", secrets: ["GH_TOKEN"])).requestId)
        let awaiting = try await agent.execute(.init(skillCode: withSecret))
        try await approve(daemon, awaiting)
        try await check(awaiting.requestId)
        let denied = try await agent.execute(.init(skillCode: hello))
        _ = try await daemon.raw("POST", "/approve/\(denied.requestId)", body: decision(token(of: denied.approvalUrl), "deny"), headers: ["Content-Type": "application/json"])
        try await check(denied.requestId)
        let failing = try await agent.execute(.init(skillCode: "// @skill fails\nDeno.exit(3)\n"))
        try await approve(daemon, failing)
        #expect(try await agent.poll(failing.requestId, timeout: .seconds(60)).status == "failed")
        try await check(failing.requestId)
        try await approve(daemon, pending)
        #expect(try await agent.poll(pending.requestId, timeout: .seconds(60)).status == "completed")
        try await check(pending.requestId)
        // One worker: a job that sleeps holds it (executing) while the next approved one waits (approved).
        let sleeper = try await agent.execute(.init(skillCode: "// @skill sleeper\n// @timeout 30\nawait new Promise((r) => setTimeout(r, 20000))\n"))
        try await approve(daemon, sleeper)
        try await waitUntil("the sleeper runs", within: .seconds(30)) { try await agent.status(sleeper.requestId).status == "executing" }
        try await check(sleeper.requestId)
        let queued = try await agent.execute(.init(skillCode: hello + "\n// queued\n"))
        try await approve(daemon, queued)
        try await check(queued.requestId)

        #expect(Set(seen.keys) == ["pending", "pending_scope", "awaiting_secrets", "denied", "failed", "completed", "executing", "approved"])
        let missing = try await oauth3(["status", "exec_0000000000000000"], environment: env)
        #expect(missing.status == 1 && missing.err.contains("HTTP 404"), "\(missing.err)")
    }

    @Test("Stopped at awaiting_secrets, the CLI says how to supply the secret; once stored, poll completes")
    func awaitingSecretsHint() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let env = environment(daemon, key: agent.apiKey!)
        let code = Fixture.workRoot() + "/secretive.ts"
        try withSecret.write(toFile: code, atomically: true, encoding: .utf8)
        let run = try await oauth3(["execute", "--code", code], environment: env) { url in try await approveLink(daemon, url) }
        #expect(run.status == 1)
        let status = try JSONDecoder().decode(ExecutionStatus.self, from: Data(run.out.utf8))
        #expect(status.status == "awaiting_secrets" && status.missingSecrets == ["API_TOKEN"])
        let link = try #require(status.approvalUrl)
        #expect(run.err.contains("oauth3 secrets set API_TOKEN"), "\(run.err)")
        #expect(run.err.contains(link) && run.err.contains("oauth3 poll \(status.requestId)"), "\(run.err)")

        #expect(try await oauth3(["secrets", "set", "API_TOKEN"], environment: env, stdin: "typed-by-a-person\n").status == 0)
        let polled = try await oauth3(["poll", status.requestId], environment: env)
        #expect(polled.status == 0, "\(polled.out)")
        #expect(try JSONDecoder().decode(ExecutionStatus.self, from: Data(polled.out.utf8)).result?.claims.run.stdout == "token [REDACTED:API_TOKEN] 17\n")
    }

    @Test("A refused skill header: exit 1, and stderr lists each of the enclave's problems with its line and tag")
    func problemsKept() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let code = Fixture.workRoot() + "/bad.ts"
        try "// @skill Bad Name\n// @network http://a.example.com/\n// @netwrok b.example.com\n".write(toFile: code, atomically: true, encoding: .utf8)
        let run = try await oauth3(["execute", "--code", code], environment: environment(daemon, key: agent.apiKey!))
        #expect(run.status == 1)
        #expect(run.err.contains("HTTP 400: invalid skill header"), "\(run.err)")
        for fragment in ["line 1 @skill:", "line 2 @network:", "line 3 @netwrok:"] { #expect(run.err.contains(fragment), "\(fragment) in \(run.err)") }
        await #expect { try await agent.execute(.init(skillCode: "// @skill Bad Name\n")) } throws: { error in
            (error as? OAuth3ClientError).map { $0.status == 400 && $0.problems.map(\.line) == [1] && $0.problems.first?.tag == "skill" } ?? false
        }
    }
}

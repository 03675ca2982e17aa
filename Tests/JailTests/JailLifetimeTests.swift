import Foundation
import Jail
import TestSupport
import Testing

/// A job never outlives its supervision: when the daemon goes, the jail (watching it through a pidfd)
/// kills init; when the jail goes, init and the program go with it (parent-death signals).
@Suite("oauth3-jail: nothing of a job outlives its supervisor", .serialized, .timeLimit(.minutes(1)))
struct JailLifetimeTests {
    /// Starts `jail-probe sleep 30 MARKER` in the jail, its stdout a pipe the test holds, and waits until
    /// the jail, init and the program all run (each carries the marker in its command line).
    func start(userNamespace: Bool) async throws -> (jail: Process, stdout: Pipe, marker: String) {
        let marker = "lifetime-\(UUID().uuidString)"
        let harness = try await JailHarness(arguments: ["sleep", "30", marker], userNamespace: userNamespace)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Fixture.jail)
        process.arguments = harness.configuration.encoded()
        process.environment = [:]
        let stdout = Pipe()
        process.standardOutput = stdout
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: EnvironmentBlock.encode([]))
        try stdin.fileHandleForWriting.close()
        // The program runs once a process of the probe's own binary carries the marker (before it, the jail,
        // its session-leading fork, since Foundation makes it a group leader, and init).
        let deadline = ContinuousClock.now + .seconds(5)
        func programRuns() -> Bool {
            Self.processes(withCommandLineContaining: marker).contains { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/exe")) == Fixture.probe }
        }
        while !programRuns() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(programRuns() && Self.processes(withCommandLineContaining: marker).count == 4, "\(Self.processes(withCommandLineContaining: marker))")
        return (process, stdout, marker)
    }

    @Test("The jail runs only under the supervisor the daemon named: its own parent runs it, any other pid is refused before the program starts")
    func namedSupervisor() async throws {
        var harness = try await JailHarness(arguments: ["ids"])
        harness.configuration.supervisor = getpid()  // the test process is the jail's parent, as the daemon is
        let run = try await harness.run()
        #expect(run.status == 0 && !run.signaled && run.out.hasPrefix("ok uid="), "\(run.err)")

        // Pid 1 (as if reparented to init), and a live process that is not the parent: both refused.
        for other in [Int32(1), getppid()] {
            var refused = try await JailHarness(arguments: ["ids"])
            refused.configuration.supervisor = other
            let result = try await refused.runKeepingReport()
            #expect(result.status == JailFailure.exitCode, "supervisor \(other): \(result.err)")
            #expect(result.report?.contains("the daemon that started the jail is gone") == true, "supervisor \(other): \(result.report ?? "no report")")
        }
    }

    /// Pids whose command line contains `marker`.
    static func processes(withCommandLineContaining marker: String) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { pid in
            FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")?.range(of: Data(marker.utf8)) != nil
        }
    }

    /// Waits (at most `seconds`) until no process carries `marker`; returns those left.
    static func processesLeft(_ marker: String, within seconds: Int = 3) async -> [Int32] {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var left = processes(withCommandLineContaining: marker)
        while !left.isEmpty && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            left = processes(withCommandLineContaining: marker)
        }
        return left
    }

    @Test("When the daemon that started the jail is killed with -9, the jail kills init, and the program dies with it", arguments: userNamespaceModes)
    func daemonKilled(userNamespace: Bool) async throws {
        let marker = "lifetime-\(UUID().uuidString)"
        let harness = try await JailHarness(arguments: ["sleep", "30", marker], userNamespace: userNamespace)
        // A stand-in daemon: a shell that starts the jail in the background (stdin passed on explicitly,
        // since a background job's stdin is otherwise /dev/null) and waits.
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/bin/sh")
        daemon.arguments = ["-c", "exec 3<&0; \"$@\" <&3 & wait", "sh", Fixture.jail] + harness.configuration.encoded()
        daemon.environment = [:]
        let stdin = Pipe()
        daemon.standardInput = stdin
        daemon.standardOutput = FileHandle.nullDevice
        try daemon.run()
        try stdin.fileHandleForWriting.write(contentsOf: EnvironmentBlock.encode([]))
        try stdin.fileHandleForWriting.close()
        func programRuns() -> Bool {
            Self.processes(withCommandLineContaining: marker).contains { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/exe")) == Fixture.probe }
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while !programRuns() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(programRuns(), "the program never started")
        kill(daemon.processIdentifier, SIGKILL)
        let left = await Self.processesLeft(marker)
        #expect(left.isEmpty, "still running after the daemon was killed: \(left)")
        for pid in left { kill(pid, SIGKILL) }
        await Fixture.waitForExit(daemon)
    }

    @Test("When the jail is killed, init and the program die with it (init's parent-death signal survives its change of identity)", arguments: userNamespaceModes)
    func jailKilled(userNamespace: Bool) async throws {
        let (jail, _, marker) = try await start(userNamespace: userNamespace)
        kill(jail.processIdentifier, SIGKILL)
        // Before waiting for the Process: Foundation reports its end only once every holder of a descriptor
        // it gave the child is gone, which would wait for the very processes this test looks for.
        let left = await Self.processesLeft(marker)
        #expect(left.isEmpty, "init or the program outlived the jail: \(left)")
        for pid in left { kill(pid, SIGKILL) }
        await Fixture.waitForExit(jail)
    }
}

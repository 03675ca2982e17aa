import Foundation
import Jail
import Sandbox
import SkillManifest
import TestSupport
import Testing

/// System calls Deno cannot reach, tried by the C probe in place of Deno, inside exactly the jail a real
/// job gets (the runner's own plan), so the seccomp filter and the OS layers are tested as deployed.
@Suite("Escapes: system calls (jail-probe in the job's jail)", .timeLimit(.minutes(2)))
struct ProbeEscapeTests {
    /// Runs `jail-probe TEST ARG` in the jail the runner would build for a skill without hosts.
    static func probe(_ test: String, _ argument: String = "") async throws -> (status: Int32, signaled: Bool, out: String, err: String) {
        let runner = try await EscapeMode.layersOnly.runner()
        let limits = runner.configuration.policy.limits
        let directory = try JobDirectory.create(under: runner.configuration.workRoot, owner: limits.uid, group: limits.gid)
        defer { directory.remove() }
        let manifest = try SkillManifest.parse("// @skill probe\n")
        var (deno, jail) = runner.plan(SkillJob(source: [], manifest: manifest, secrets: [:]), in: directory.paths)
        jail.program = "/usr/bin/jail-probe"
        jail.arguments = [test, argument]
        jail.filesystem.readOnlyFiles.append(.init(source: Fixture.probe, target: "/usr/bin/jail-probe"))
        for library in try await SandboxHost.sharedLibraries(of: Fixture.probe) where !jail.filesystem.readOnlyFiles.contains(where: { $0.target == library }) {
            jail.filesystem.readOnlyFiles.append(.init(source: library, target: library))
        }
        return try await Fixture.execute(Fixture.jail, jail.encoded(), environment: [:], input: try EnvironmentBlock.encode(deno.environment))
    }

    @Test(
        "Calls on the kill list end the job with SIGSYS (outcome seccomp_violation)",
        arguments: ["ptrace", "unshare", "mount", "chroot", "setuid", "keyctl", "bpf", "userfaultfd", "memfd", "perf", "io_uring"])
    func killList(test: String) async throws {
        let run = try await Self.probe(test, "1")
        #expect(run.signaled && run.status == SIGSYS, "\(test): status \(run.status) \(run.out) \(run.err)")
        #expect(run.out.isEmpty)
    }

    @Test(
        "Refused calls fail with the profile's errno, and the program goes on",
        arguments: [
            ("socket-unix", "/var/run/dstack.sock", "errno 13 EACCES"), ("socket-vsock", "", "errno 38 ENOSYS"),
            ("socket-raw", "", "errno 38 ENOSYS"), ("socket-packet", "", "errno 38 ENOSYS"),
            ("socket-netlink", "", "errno 38 ENOSYS"), ("tiocsti", "", "errno 1 EPERM"), ("tiocsti-high", "", "errno 1 EPERM"),
            ("fork", "", "errno 1 EPERM"), ("socket-inet", "", "ok"), ("connect-tcp", "10.255.255.53", "errno 101 ENETUNREACH"),
        ] as [(String, String, String)])
    func refusedCalls(test: String, argument: String, expected: String) async throws {
        let run = try await Self.probe(test, argument)
        #expect(!run.signaled, "\(test) \(run.status)")
        #expect(run.out.hasPrefix(expected), "\(test): \(run.out) \(run.err)")
    }
}

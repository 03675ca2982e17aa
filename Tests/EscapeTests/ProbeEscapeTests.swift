import Foundation
import Jail
import OAuth3Wire
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
        "Calls on the kill list kill the process with SIGSYS before it can print (the outcome: see killListOutcome)",
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
            // No server inside a job: listen and accept are not in the profile, so they get its default.
            ("listen", "", "errno 38 ENOSYS"), ("accept", "", "errno 38 ENOSYS"), ("accept4", "", "errno 38 ENOSYS"),
        ] as [(String, String, String)])
    func refusedCalls(test: String, argument: String, expected: String) async throws {
        let run = try await Self.probe(test, argument)
        #expect(!run.signaled, "\(test) \(run.status)")
        #expect(run.out.hasPrefix(expected), "\(test): \(run.out) \(run.err)")
    }

    /// Whether this kernel runs i386 system calls at all: without IA32 emulation `int 0x80` faults
    /// (SIGSEGV) before seccomp sees it, and there is nothing for the filter to refuse.
    static func kernelRunsInt80() async -> Bool {
        (try? await Fixture.execute(Fixture.probe, ["int80"]))?.out.hasPrefix("ok ") == true
    }

    @Test(
        "i386 system calls (int 0x80) from the job's process kill it with SIGSYS: the filter is for x86_64 numbers only",
        .enabled("this kernel has no IA32 emulation: int 0x80 faults before any filter", { await kernelRunsInt80() }))
    func int80() async throws {
        let run = try await Self.probe("int80")
        #expect(run.signaled && run.status == SIGSYS && run.out.isEmpty, "status \(run.status) \(run.out) \(run.err)")
    }

    @Test("x32 system call numbers (bit 0x40000000) kill the job with SIGSYS, whether or not the kernel has the x32 ABI")
    func x32() async throws {
        // Outside any filter the call is getpid (x32 kernel) or ENOSYS (none): never a signal.
        let bare = try await Fixture.execute(Fixture.probe, ["x32"])
        #expect(!bare.signaled && (bare.out.hasPrefix("ok ") || bare.out.hasPrefix("errno 38 ENOSYS")), "\(bare)")
        let run = try await Self.probe("x32")
        #expect(run.signaled && run.status == SIGSYS && run.out.isEmpty, "status \(run.status) \(run.out) \(run.err)")
    }

    @Test(
        "A kill-list call from the job's own process ends as seccomp_violation (layers-only: ptrace through Deno's FFI; realistic: no FFI)",
        arguments: EscapeMode.allCases)
    func killListOutcome(mode: EscapeMode) async throws {
        let result = try await mode.run(
            """
            // @skill ffi
            const libc = Deno.dlopen("libc.so.6", { syscall: { parameters: ["i64", "i64", "i64", "i64"], result: "i64" } })
            console.log("calling")
            console.log("survived", libc.symbols.syscall(101n, 16n, 1n, 0n))  // ptrace(PTRACE_ATTACH, 1)
            """)
        if mode.isRealistic {
            #expect(result.outcome == .exitNonzero && result.stderr.contains("NotCapable") && result.stdout.isEmpty, "\(result.stderr)")
        } else {
            #expect(result.outcome == .seccompViolation, "\(result.outcome) \(result.stderr.suffix(300))")
            #expect(result.signal == "SIGSYS" && result.stdout == "calling\n")
        }
    }
}

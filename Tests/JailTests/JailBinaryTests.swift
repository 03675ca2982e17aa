import Foundation
import Jail
import TestSupport
import Testing

/// Both ways the jail can run: with a user namespace, and without (for kernels that refuse one).
let userNamespaceModes = [true, false]

@Suite("oauth3-jail, the real binary", .serialized)
struct JailBinaryTests {
    @Test("The program runs unprivileged: uid/gid 65534, no groups, no capabilities, no_new_privs, seccomp filter", arguments: userNamespaceModes)
    func identityAndPrivileges(userNamespace: Bool) async throws {
        let run = try await JailHarness(arguments: ["read", "/proc/self/status"], userNamespace: userNamespace).run()
        #expect(run.status == 0, "\(run.err)")
        let fields = Dictionary(
            run.out.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: ":", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces)) : nil
            }, uniquingKeysWith: { first, _ in first })
        #expect(fields["Uid"] == "65534\t65534\t65534\t65534")
        #expect(fields["Gid"] == "65534\t65534\t65534\t65534")
        #expect(fields["Groups"] == "")
        for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] { #expect(fields[set] == "0000000000000000", "\(set)") }
        #expect(fields["NoNewPrivs"] == "1")
        #expect(fields["Seccomp"] == "2")
    }

    @Test("The program's environment is exactly the block on stdin; nothing of the jail's own reaches it", arguments: userNamespaceModes)
    func cleanEnvironment(userNamespace: Bool) async throws {
        let run = try await JailHarness(arguments: ["read", "/proc/self/environ"], userNamespace: userNamespace)
            .run(program: [("KEEP_ME", "kept"), ("SECOND", "a=b c")], environment: ["DROP_ME": "dropped", "LD_PRELOAD": "/x.so", "PATH": "/usr/bin"])
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.split(separator: "\n").dropFirst().filter { !$0.isEmpty } == ["KEEP_ME=kept", "SECOND=a=b c"])
    }

    @Test(
        "Runtime variables in the block are the program's plain values and never touch the jail's own Swift runtime or libc",
        arguments: userNamespaceModes)
    func runtimeVariablesReachOnlyTheProgram(userNamespace: Bool) async throws {
        let block = [
            ("SWIFT_BACKTRACE", "enable=yes,interactive=no,oauth3-marker=1"), ("LD_PRELOAD", "/nonexistent-oauth3-marker.so"),
            ("GLIBC_TUNABLES", "glibc.malloc.perturb=85"), ("MALLOC_PERTURB_", "85"), ("LD_LIBRARY_PATH", "/nowhere"),
        ]
        let run = try await JailHarness(arguments: ["read", "/proc/self/environ"], userNamespace: userNamespace).run(program: block)
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.split(separator: "\n").dropFirst().filter { !$0.isEmpty } == block.map { "\($0.0)=\($0.1)" })
        // Each process that starts with these says so once on stderr: the dynamic linker about LD_PRELOAD, the
        // Swift runtime about the unknown SWIFT_BACKTRACE setting. The probe is one (SwiftPM links it against
        // libswiftCore); the jail, which execs before the probe, must not be the second.
        func occurrences(_ text: String) -> Int { run.err.components(separatedBy: text).count - 1 }
        #expect(occurrences("nonexistent-oauth3-marker.so") == 1, "\(run.err)")
        #expect(occurrences("unknown backtracing setting 'oauth3-marker'") == 1, "\(run.err)")
    }

    @Test("A missing, truncated, malformed or oversized environment block stops the jail at stage environment, naming the problem", arguments: [
        ([UInt8](), "stdin ended after 0 of 8 bytes of the environment block's header"),
        (Array("// @skill x\n".utf8), "stdin does not start with an environment block"),
        (EnvironmentBlock.magic + [0, 0, 0, 10] + Array("A=1\0".utf8), "stdin ended after 4 of 10 bytes of the environment block's body"),
        (EnvironmentBlock.magic + [0xFF, 0, 0, 0], "larger than the 2097152-byte limit"),
        (EnvironmentBlock.magic + [0, 0, 0, 3] + Array("A=1".utf8), "the last entry is not NUL-terminated"),
        (EnvironmentBlock.magic + [0, 0, 0, 6] + Array("A=1\0B\0".utf8), "entry 1 has no NAME="),
        (EnvironmentBlock.magic + [0, 0, 0, 8] + Array("A=1\0A=2\0".utf8), "entry 1 repeats A of entry 0"),
    ] as [([UInt8], String)])
    func badEnvironmentBlock(input: [UInt8], message: String) async throws {
        let run = try await JailHarness(arguments: ["ids"]).runKeepingReport(input: input)
        #expect(run.status == JailFailure.exitCode)
        let failure = try #require(run.report.flatMap { JailFailure(reportLine: $0.trimmingCharacters(in: .newlines)) }, "\(run.err)")
        #expect(failure.stage == .environment)
        #expect(failure.detail.contains(message), "\(failure.detail)")
    }

    @Test("Descriptors the jail inherits are closed before the program starts")
    func closesInheritedDescriptors() async throws {
        let harness = try await JailHarness(arguments: ["fds"])
        let command = "exec 7</etc/hostname; exec 9</etc/hostname; " + ([Fixture.jail] + harness.configuration.encoded()).map { "'\($0)'" }.joined(separator: " ")
        let run = try await Fixture.execute("/bin/sh", ["-c", command], input: try EnvironmentBlock.encode([]))
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out == "ok 3\n")  // stdin, stdout, stderr
    }

    @Test(
        "Nothing of the host is visible; the root is read-only; only the tmpfs is writable",
        arguments: [
            ("open", "/etc/passwd", "errno 2 ENOENT"), ("open", "/sys/kernel", "errno 2 ENOENT"),
            ("open", "/dev/tdx_guest", "errno 2 ENOENT"), ("open", "/var/run/dstack.sock", "errno 2 ENOENT"),
            ("open", "/var/run/tappd.sock", "errno 2 ENOENT"), ("open", "/root", "errno 2 ENOENT"),
            ("open", Fixture.repository.path + "/Package.swift", "errno 2 ENOENT"), ("open", "/dev/null", "ok 3"),
            ("write", "/escape", "errno 30 EROFS"), ("write", "/dev/escape", "errno 30 EROFS"),
            ("write", "/tmp/mine", "ok 3"), ("read", "/proc/1/environ", "errno 13 EACCES"),
        ] as [(String, String, String)])
    func minimalRoot(test: String, path: String, expected: String) async throws {
        let run = try await JailHarness(arguments: [test, path]).run()
        #expect(run.out.hasPrefix(expected), "\(test) \(path): \(run.out) \(run.err)")
    }

    @Test("A fresh pid namespace: only init (1) and the program (2) exist; init cannot be traced")
    func pidNamespace() async throws {
        let run = try await JailHarness(arguments: ["pids"]).run()
        #expect(run.out == "ok 1 2\n", "\(run.out)")
        let ptraceInit = try await JailHarness(arguments: ["ptrace", "1"]).run()
        #expect(ptraceInit.signaled && ptraceInit.status == SIGSYS)
    }

    @Test("An empty network namespace: a listener on the host's loopback is unreachable")
    func networkNamespace() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(listener, 1)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = String(UInt16(bigEndian: address.sin_port))
        let isolated = try await JailHarness(arguments: ["connect-tcp", "127.0.0.1", port]).run()
        // The job's own loopback is up but empty: the host's listener is not there.
        #expect(isolated.out.hasPrefix("errno 111 ECONNREFUSED"), "\(isolated.out)")
        // Control: sharing the host's network (loudly), the same call reaches the listener.
        var shared = try await JailHarness(arguments: ["connect-tcp", "127.0.0.1", port])
        shared.configuration.unsafeShareHostNetwork = true
        #expect(try await shared.run().out.hasPrefix("ok"))
    }

    @Test("A setuid-root binary inside the jail runs without privilege", arguments: userNamespaceModes)
    func setuidBinary(userNamespace: Bool) async throws {
        let copy = Fixture.workRoot() + "/suid-probe"
        try FileManager.default.copyItem(atPath: Fixture.probe, toPath: copy)
        chown(copy, 0, 0)
        chmod(copy, 0o4755)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let harness = try await JailHarness(
            arguments: ["exec", "/usr/bin/suid-probe"], userNamespace: userNamespace,
            extraBinds: [.init(source: copy, target: "/usr/bin/suid-probe")])
        let run = try await harness.run()
        #expect(run.out.hasPrefix("ok uid=65534 euid=65534 gid=65534 egid=65534"), "\(run.out) \(run.err)")
    }

    /// In a container the job's directory (and its egress socket) is on a noexec /dev/shm; a read-only
    /// remount that dropped noexec was refused there with EPERM (found by running the image under podman).
    @Test("A file bound from a noexec, noatime mount is bound read-only: the remount keeps the flags the kernel locks", arguments: userNamespaceModes)
    func bindFromNoexecMount(userNamespace: Bool) async throws {
        let directory = Fixture.workRoot() + "/noexec"
        mkdir(directory, 0o755)
        #expect(mount("tmpfs", directory, "tmpfs", UInt(MS_NOEXEC) | UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOATIME), "size=1m") == 0)
        defer { umount2(directory, Int32(MNT_DETACH)); try? FileManager.default.removeItem(atPath: directory) }
        try Data("from a noexec mount".utf8).write(to: URL(fileURLWithPath: directory + "/file"))
        chmod(directory + "/file", 0o644)
        let harness = try await JailHarness(
            arguments: ["read", "/run/file"], userNamespace: userNamespace, extraBinds: [.init(source: directory + "/file", target: "/run/file")])
        let run = try await harness.run()
        #expect(run.status == 0 && run.out == "ok 19\nfrom a noexec mount\n", "\(run.out) \(run.err)")
    }

    @Test("The program's exit code and signal come back as the jail's own")
    func relaysEnding() async throws {
        let unknown = try await JailHarness(arguments: ["no-such-test"]).run()
        #expect(unknown.status == 2 && !unknown.signaled)
        let killed = try await JailHarness(arguments: ["bpf"]).run()
        #expect(killed.signaled && killed.status == SIGSYS)
    }

    @Test("A failure is written to the report file, names its stage, and exits with the reserved code")
    func reportsFailure() async throws {
        var harness = try await JailHarness(arguments: ["ids"])
        harness.configuration.filesystem.readOnlyFiles.append(.init(source: "/nonexistent/file", target: "/x"))
        let run = try await harness.runKeepingReport()
        #expect(run.status == JailFailure.exitCode)
        let failure = try #require(run.report.flatMap { JailFailure(reportLine: $0.trimmingCharacters(in: .newlines)) })
        #expect(failure.stage == .mount)
        #expect(failure.errno == ENOENT)
        #expect(run.err.contains("jail setup failed at mount"))
    }

    @Test("Usage errors name the argument", arguments: [
        (["--bogus", "--", "/bin/true"], "unknown argument '--bogus'"),
        (["--root", "/tmp", "--keep-env", "A", "--", "/bin/true"], "unknown argument '--keep-env'"),  // the environment comes on stdin
        (["--root", "/tmp", "--", "bin/true"], "absolute path"),
        (["--", "/bin/true"], "missing --root"),
        (["--root", "/tmp", "--rlimit", "as", "1", "1", "--", "/bin/true"], "unknown resource 'as'"),
        (["--root", "/tmp", "--seccomp", "allow", "--", "/bin/true"], "--seccomp: 'allow'"),
        (["--root", "relative", "--", "/bin/true"], "absolute path"),
        (["--root", "/tmp", "--egress-bridge", "0", "/run/s", "--", "/bin/true"], "--egress-bridge: port 0"),
        (["--root", "/tmp", "--egress-bridge", "70000", "/run/s", "--", "/bin/true"], "--egress-bridge takes a number, got '70000'"),
        (["--root", "/tmp", "--egress-bridge", "3128", "run/s", "--", "/bin/true"], "absolute path"),
    ] as [([String], String)])
    func usageErrors(arguments: [String], message: String) async throws {
        let run = try await Fixture.execute(Fixture.jail, arguments)
        #expect(run.status == JailFailure.exitCode)
        #expect(run.err.contains(message), "\(run.err)")
    }
}

@Suite("Jail configuration encoding")
struct JailConfigurationTests {
    @Test("Encoding and decoding the command line round-trips every field, arguments after -- untouched")
    func roundTrip() throws {
        var configuration = JailConfiguration(
            program: "/usr/bin/deno", arguments: ["run", "--keep-env", "--", "-"], workingDirectory: "/home", reportPath: "/tmp/job x/report")
        configuration.uid = 1000
        configuration.gid = 1001
        configuration.filesystem = FilesystemPlan(
            stagingDirectory: "/tmp/job x/root", readOnlyFiles: [.init(source: "/opt/deno", target: "/usr/bin/deno")],
            readOnlyDirectories: [.init(source: "/tmp/job x/egress", target: "/run/oauth3")], tmpfs: [.init(target: "/home", sizeBytes: 1 << 20)])
        configuration.filesystem.writableDirectories = [.init(source: "/tmp/job x/deno-output", target: "/deno")]
        configuration.seed = DirectorySeed(source: "/run/oauth3/deno-cache", target: "/deno")
        configuration.cgroups = ["/sys/fs/cgroup/job-1"]
        configuration.resourceLimits = [.init(.nofile, soft: 10, hard: 20), .init(.cpu, soft: 1, hard: 2)]
        configuration.seccomp = try PolicySetLoader.seccomp()
        configuration.hostname = "job"
        configuration.supervisor = 4242
        configuration.egressBridge = EgressBridge(port: 3128, socketPath: "/run/oauth3/egress.sock")
        configuration.unsafeShareHostNetwork = true
        configuration.unsafeNoUserNamespace = true
        configuration.unsafeNoSeccomp = true
        #expect(try JailConfiguration(arguments: configuration.encoded()) == configuration)
    }

    @Test("A file bound below a tmpfs path stays visible: tmpfs mounts come first")
    func bindBelowTmpfs() {
        let plan = FilesystemPlan(stagingDirectory: "/s", readOnlyFiles: [.init(source: "/tmp/build/probe", target: "/tmp/build/probe")], tmpfs: [.init(target: "/tmp", sizeBytes: 1)])
        let order = plan.steps.map { "\($0)" }
        #expect(order.firstIndex { $0.contains("tmpfs") }! < order.firstIndex { $0.contains("bindReadOnly") }!)
    }

    @Test("The mount plan creates parents before children and every mount point before its mount")
    func mountPlan() {
        let plan = FilesystemPlan(
            stagingDirectory: "/s", readOnlyFiles: [.init(source: "/h/deno", target: "/usr/bin/deno"), .init(source: "/lib/libc.so", target: "/lib/libc.so")],
            tmpfs: [.init(target: "/home", sizeBytes: 5)])
        #expect(plan.steps == [
            .directory("home"), .tmpfs(target: "home", sizeBytes: 5),
            .directory("usr"), .directory("usr/bin"), .emptyFile("usr/bin/deno"), .bindReadOnly(source: "/h/deno", target: "usr/bin/deno"),
            .directory("lib"), .emptyFile("lib/libc.so"), .bindReadOnly(source: "/lib/libc.so", target: "lib/libc.so"),
            .directory("dev"),
            .emptyFile("dev/null"), .bindDevice(source: "/dev/null", target: "dev/null"),
            .emptyFile("dev/zero"), .bindDevice(source: "/dev/zero", target: "dev/zero"),
            .emptyFile("dev/random"), .bindDevice(source: "/dev/random", target: "dev/random"),
            .emptyFile("dev/urandom"), .bindDevice(source: "/dev/urandom", target: "dev/urandom"),
            .directory("proc"), .proc(target: "proc"),
        ])
    }

    @Test("Report lines round-trip, and anything else is not a report")
    func reportLines() {
        let failure = JailFailure(.noNewPrivileges, errno: EPERM, "prctl(PR_SET_NO_NEW_PRIVS)")
        #expect(JailFailure(reportLine: failure.reportLine) == failure)
        #expect(JailFailure(reportLine: "hello world") == nil)
        #expect(JailFailure(reportLine: "") == nil)
    }
}

import Foundation
import Jail
import TestSupport
import Testing

@Suite("The job's cgroup", .serialized)
struct CgroupPlacementTests {
    /// Starts the jail, waits until `expected` processes are in `directory` (or 5 s), and reads its
    /// `cgroup.procs` while the program runs.
    func membersWhileRunning(_ harness: JailHarness, directory: String, expected: Int) async throws -> (jail: Int32, members: [Int32], status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Fixture.jail)
        process.arguments = harness.configuration.encoded()
        process.environment = [:]
        process.standardOutput = FileHandle.nullDevice
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: EnvironmentBlock.encode([]))
        try stdin.fileHandleForWriting.close()
        func members() -> [Int32] {
            ((try? String(contentsOfFile: directory + "/cgroup.procs", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
        }
        // Readiness, not a sleep: every process the test expects in the cgroup (waiting for fewer read v1's
        // cgroup on a loaded machine before the program had started), or the test's own expectations below
        // say what was there instead.
        try? await waitUntil("\(expected) processes in \(directory)", within: .seconds(5)) { members().count >= expected }
        let members = members()
        await Fixture.waitForExit(process)
        return (process.processIdentifier, members, process.terminationStatus)
    }

    @Test("cgroup v2: init and the program are cloned straight into the job's cgroup; the jail never joins it")
    func cloneIntoV2() async throws {
        let mount = Fixture.workRoot() + "/cgroup2"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        guard Glibc.mount("none", mount, "cgroup2", 0, nil) == 0 else {
            Issue.record("cannot mount cgroup2: \(String(cString: strerror(errno)))")
            return
        }
        defer { umount2(mount, Int32(MNT_DETACH)) }
        let job = mount + "/job-\(UUID().uuidString)"
        #expect(mkdir(job, 0o755) == 0)
        defer { rmdir(job) }
        var harness = try await JailHarness(arguments: ["sleep", "1"])
        harness.configuration.cgroups = [job]
        let run = try await membersWhileRunning(harness, directory: job, expected: 2)
        #expect(run.status == 0)
        #expect(run.members.count == 2, "\(run.members)")  // init of the pid namespace, and the program
        #expect(!run.members.contains(run.jail))
    }

    /// Whether this machine has a cgroup v1 pids hierarchy (a v2-only machine is covered by the test above).
    static let hasV1Pids = ((try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? "").contains(":pids:")

    @Test(
        "cgroup v1: the jail joins every hierarchy first, so init and the program start inside",
        .enabled(if: hasV1Pids, "no cgroup v1 pids hierarchy on this machine (v2 only: see the test above)"))
    func joinV1() async throws {
        let parent = "/sys/fs/cgroup/pids/oauth3-enclave-test"
        mkdir(parent, 0o755)
        let job = parent + "/job-\(UUID().uuidString)"
        #expect(mkdir(job, 0o755) == 0)
        defer { rmdir(job) }
        var harness = try await JailHarness(arguments: ["sleep", "1"])
        harness.configuration.cgroups = [job]
        let run = try await membersWhileRunning(harness, directory: job, expected: 3)
        #expect(run.status == 0)
        // The jail itself (here the session-leading fork of it, Foundation makes its child a group leader),
        // init, and the program.
        #expect(run.members.count == 3, "\(run.members)")
    }
}

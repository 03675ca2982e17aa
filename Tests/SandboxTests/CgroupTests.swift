import Foundation
import OAuth3Wire
@testable import Sandbox
import TestSupport
import Testing

@Suite("cgroups", .serialized)
struct CgroupTests {
    @Test("v1: one hierarchy per controller, jobs below the daemon's own cgroup; combined cpu,cpuacct mounts too")
    func parseV1() throws {
        let mountinfo = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
            35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
            """
        let membership = "4:memory:/process_api/abc\n3:cpu,cpuacct:/\n8:pids:/\n0::/\n"
        let hierarchy = try #require(CgroupHierarchy.parse(membership: membership, mountinfo: mountinfo, name: "oauth3-enclave"))
        #expect(hierarchy.version == .v1)
        #expect(hierarchy.parentDirectories == [
            "/sys/fs/cgroup/memory/process_api/abc/oauth3-enclave", "/sys/fs/cgroup/pids/oauth3-enclave",
            "/sys/fs/cgroup/cpu,cpuacct/oauth3-enclave",
        ])
    }

    @Test("v2: one unified hierarchy (a Dstack CVM, a container with its own cgroup namespace)")
    func parseV2() throws {
        let mountinfo = "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
        let hierarchy = try #require(CgroupHierarchy.parse(membership: "0::/\n", mountinfo: mountinfo, name: "oauth3-enclave"))
        #expect(hierarchy.version == .v2)
        #expect(hierarchy.parentDirectories == ["/sys/fs/cgroup/oauth3-enclave"])
        let nested = try #require(CgroupHierarchy.parse(membership: "0::/system.slice/oauth3.service\n", mountinfo: mountinfo, name: "jobs"))
        #expect(nested.parentDirectories == ["/sys/fs/cgroup/system.slice/oauth3.service/jobs"])
        #expect(CgroupHierarchy.parse(membership: "0::/\n", mountinfo: "", name: "x") == nil)
        // Once prepare() moved the daemon into its leaf, the cgroup it owns is still the one above.
        let moved = try #require(CgroupHierarchy.parse(membership: "0::/oauth3-daemon\n", mountinfo: mountinfo, name: "oauth3-enclave"))
        #expect(moved.parentDirectories == ["/sys/fs/cgroup/oauth3-enclave"])
        let movedNested = try #require(CgroupHierarchy.parse(membership: "0::/system.slice/oauth3.service/oauth3-daemon\n", mountinfo: mountinfo, name: "jobs"))
        #expect(movedNested.parentDirectories == ["/sys/fs/cgroup/system.slice/oauth3.service/jobs"])
    }

    @Test("v2 files: the limits written and the counters read back")
    func v2FileProtocol() throws {
        let parent = Fixture.workRoot()
        let job = parent + "/job-t"
        try FileManager.default.createDirectory(atPath: job, withIntermediateDirectories: true)
        for file in ["memory.max", "memory.swap.max", "pids.max", "cpu.max", "cgroup.procs"] {
            FileManager.default.createFile(atPath: job + "/" + file, contents: Data())
        }
        let cgroup = try JobCgroup.create(in: .v2(parent: parent), id: "t", memoryBytes: 256 << 20, pidsMax: 64, cpuCores: 1.5)
        func contents(_ file: String) throws -> String { try String(contentsOfFile: job + "/" + file, encoding: .utf8) }
        #expect(try contents("memory.max") == "268435456")
        #expect(try contents("memory.swap.max") == "0")
        #expect(try contents("pids.max") == "64")
        #expect(try contents("cpu.max") == "150000 100000")
        try "1048576000\n".write(toFile: job + "/memory.peak", atomically: false, encoding: .utf8)
        try "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n".write(toFile: job + "/memory.events", atomically: false, encoding: .utf8)
        try "max 7\n".write(toFile: job + "/pids.events", atomically: false, encoding: .utf8)
        try "usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\n".write(toFile: job + "/cpu.stat", atomically: false, encoding: .utf8)
        #expect(cgroup.usage() == .init(memoryPeakBytes: 1_048_576_000, oomKills: 1, pidsLimitHits: 7, cpuUserMicroseconds: 2000, cpuSystemMicroseconds: 1000))
    }

    @Test("This machine's cgroups: a job cgroup gets its limits and is removed with everything in it")
    func realHierarchy() async throws {
        let hierarchy = try #require(CgroupHierarchy.current(named: "oauth3-enclave-test"))
        try hierarchy.prepare()
        let cgroup = try JobCgroup.create(in: hierarchy, id: UUID().uuidString, memoryBytes: 100 << 20, pidsMax: 10, cpuCores: 1)
        let memoryFile = hierarchy.version == .v1 ? "memory.limit_in_bytes" : "memory.max"
        #expect(cgroup.directories.contains { (try? String(contentsOfFile: $0 + "/" + memoryFile, encoding: .utf8))?.hasPrefix("104857600") == true })
        // A process left inside is killed, and the directories go.
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["60"]
        try sleeper.run()
        for directory in cgroup.directories { #expect(CgroupHierarchy.write(String(sleeper.processIdentifier), to: directory + "/cgroup.procs")) }
        #expect(await cgroup.destroy().isEmpty)
        await Fixture.waitForExit(sleeper)
        #expect(sleeper.terminationReason == .uncaughtSignal)
        #expect(cgroup.directories.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
    }

    @Test("A cgroup v2 hierarchy without the controllers is refused with the reason")
    func v2WithoutControllers() throws {
        let mount = Fixture.workRoot() + "/cgroup2"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        try #require(Glibc.mount("none", mount, "cgroup2", 0, nil) == 0, "cannot mount cgroup2 here: \(String(cString: strerror(errno)))")
        defer { umount2(mount, Int32(MNT_DETACH)) }
        // A grandchild of the root whose parent delegates nothing has no controllers, whichever hierarchy
        // holds them on this machine (v1 here, or this very v2 tree on a v2 host).
        let outer = mount + "/no-delegation-\(UUID().uuidString)"
        let own = outer + "/own"
        #expect(mkdir(outer, 0o755) == 0 && mkdir(own, 0o755) == 0)
        defer { rmdir(own + "/oauth3-enclave"); rmdir(own); rmdir(outer) }
        #expect((try String(contentsOfFile: own + "/cgroup.controllers", encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines) == "")
        #expect { try CgroupHierarchy.v2(parent: own + "/oauth3-enclave").prepare() } throws: { error in
            "\(error)".contains("cgroup v2 controllers memory, pids, cpu are not available in \(own)")
        }
    }

    @Test("Without cgroups the runner refuses to start, unless the operator explicitly allows it")
    func refusesWithoutCgroups() async throws {
        let missing = CgroupHierarchy.v2(parent: "/nonexistent/cgroup/oauth3-enclave")
        await #expect { try await SkillRunner(configuration: Fixture.configuration { $0.cgroupHierarchy = missing }) } throws: { error in
            "\(error)".contains("--unsafe-allow-missing-cgroups")
        }
        let runner = try await SkillRunner(configuration: Fixture.configuration {
            $0.cgroupHierarchy = missing
            $0.unsafeAllowMissingCgroups = true
        })
        let result = try await Fixture.run("// @skill a\nconsole.log('ran')\n", runner: runner, unsafeAcceptWeakerSandbox: true)
        #expect(result.outcome == .ok && result.stdout == "ran\n")
        #expect(result.sandbox.cgroups == "none" && result.memPeakBytes == nil)
    }
}

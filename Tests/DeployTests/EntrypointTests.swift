import Foundation
import TestSupport
import Testing

/// dstack/entrypoint.sh, run for real: inside a private mount namespace, over a read-only cgroup2 mount
/// standing for the one Docker gives a container.
@Suite("The image's entrypoint", .serialized, .enabled(if: geteuid() == 0, "needs root, as the container has it"))
struct EntrypointTests {
    static let entrypoint = DeploymentCheck.directory.appendingPathComponent("entrypoint.sh").path

    func run(_ script: String, capabilities: String) async throws -> (status: Int32, out: String, err: String) {
        let result = try await Fixture.execute(
            "/usr/bin/setpriv", ["--bounding-set", "-all,\(capabilities)", "--", "/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "ENTRYPOINT": Self.entrypoint])
        return (result.status, result.out, result.err)
    }

    @Test("It remounts a read-only cgroup2 tree read-write, then leaves the daemon only CHOWN, SETUID and SETGID")
    func remountsAndDrops() async throws {
        let result = try await run(
            """
            mount -t cgroup2 -o ro none /sys/fs/cgroup
            [ -w /sys/fs/cgroup/cgroup.subtree_control ] && echo before:rw || echo before:ro
            "$ENTRYPOINT" sh -c '[ -w /sys/fs/cgroup/cgroup.subtree_control ] && echo after:rw || echo after:ro; grep CapBnd /proc/self/status'
            """, capabilities: "+sys_admin,+setpcap,+chown,+setuid,+setgid")
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("before:ro") && result.out.contains("after:rw"), "\(result.out)")
        // CAP_CHOWN (0), CAP_SETGID (6), CAP_SETUID (7).
        #expect(result.out.contains("CapBnd:\t00000000000000c1"), "\(result.out)")
    }

    @Test("Without CAP_SETPCAP it refuses to start rather than leave the daemon CAP_SYS_ADMIN")
    func refusesToKeepSysAdmin() async throws {
        let result = try await run(#""$ENTRYPOINT" echo started"#, capabilities: "+sys_admin,+chown,+setuid,+setgid")
        #expect(result.status != 0 && !result.out.contains("started"), "\(result.out)")
        #expect(result.err.contains("cannot drop CAP_SYS_ADMIN"), "\(result.err)")
    }
}

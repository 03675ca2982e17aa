import Foundation
import Jail
import Sandbox
import TestSupport

/// Runs a program through the real `oauth3-jail` binary with every layer on, the way the daemon would
/// (minus the cgroup, which the sandbox tests cover), and cleans up afterwards.
struct JailHarness {
    let root: String
    var configuration: JailConfiguration

    /// A jail for `program` (a host binary, bound at the same path) and its libraries.
    init(program: String = Fixture.probe, arguments: [String], userNamespace: Bool = true, extraBinds: [FilesystemPlan.Bind] = []) async throws {
        root = Fixture.workRoot()
        chmod(root, 0o711)
        let mountPoint = root + "/root"
        mkdir(mountPoint, 0o700)
        chown(mountPoint, 65534, 65534)
        var binds = [FilesystemPlan.Bind(source: program, target: program)]
        for library in try await SandboxHost.sharedLibraries(of: program) { binds.append(.init(source: library, target: library)) }
        var configuration = JailConfiguration(program: program, arguments: arguments, workingDirectory: "/tmp", reportPath: root + "/report")
        configuration.filesystem = FilesystemPlan(
            stagingDirectory: mountPoint, readOnlyFiles: binds + extraBinds, tmpfs: [.init(target: "/tmp", sizeBytes: 1 << 20)])
        configuration.seccomp = try PolicySet.load(from: Fixture.policies).seccomp
        configuration.resourceLimits = [.init(.nofile, soft: 64, hard: 64), .init(.core, soft: 0, hard: 0)]
        configuration.unsafeNoUserNamespace = !userNamespace
        self.configuration = configuration
    }

    /// Runs the jail. `program` is the program's environment, sent on stdin as the daemon sends it;
    /// `environment` is the jail's own, which the daemon leaves empty and which must never reach the program.
    func run(
        program: [(name: String, value: String)] = [("KEEP_ME", "kept")],
        environment: [String: String] = ["DROP_ME": "dropped", "PATH": "/usr/bin:/bin"]
    ) async throws -> (status: Int32, signaled: Bool, out: String, err: String) {
        defer { try? FileManager.default.removeItem(atPath: root) }
        return try await Fixture.execute(Fixture.jail, configuration.encoded(), environment: environment, input: try EnvironmentBlock.encode(program))
    }

    /// The jail's failure report, if any (read before `run` removes the directory: use `runKeepingReport`).
    /// `input` is the jail's whole stdin (by default an empty environment block).
    func runKeepingReport(input: [UInt8]? = nil) async throws -> (status: Int32, report: String?, err: String) {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let result = try await Fixture.execute(Fixture.jail, configuration.encoded(), input: try input ?? EnvironmentBlock.encode([]))
        return (result.status, try? String(contentsOfFile: root + "/report", encoding: .utf8), result.err)
    }
}

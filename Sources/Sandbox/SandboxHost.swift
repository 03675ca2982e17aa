import Foundation
import Subprocess
import SystemPackage

/// What this machine offers the sandbox, found once at start: Deno's version and libraries, whether the
/// kernel allows a user namespace, and where job cgroups go.
public struct SandboxHost: Sendable {
    /// Deno's version (`2.9.8`).
    public let denoVersion: String
    /// Host paths of the shared libraries Deno links (bound read-only into every job's root).
    public let denoLibraries: [String]
    /// Whether jobs get a user namespace.
    public let userNamespace: Bool
    /// Where job cgroups go, or `nil` when the operator explicitly allowed running without them.
    public let cgroups: CgroupHierarchy?

    /// Inspects the machine for `configuration`.
    /// - Throws: ``SandboxError`` when a required layer is missing, saying how to fix it or what flag
    ///   explicitly accepts the weaker sandbox.
    public static func inspect(_ configuration: SandboxConfiguration) async throws(SandboxError) -> SandboxHost {
        let version = try await DenoVersion.read(denoPath: configuration.denoPath)
        let libraries = try await sharedLibraries(of: configuration.denoPath)

        // One probe with every namespace; a second one without the user namespace only if that failed.
        var userNamespace = false
        if configuration.userNamespace != .unsafeDisabled {
            userNamespace = await probe(jail: configuration.jailPath, userNamespace: true)
            if !userNamespace && configuration.userNamespace == .required {
                throw .isolation("this kernel refuses user namespaces to the jail (check /proc/sys/user/max_user_namespaces and the container's seccomp profile)")
            }
        }
        if !userNamespace, !(await probe(jail: configuration.jailPath, userNamespace: false)) {
            throw .isolation("the jail cannot create its mount, pid, ipc, uts, cgroup and network namespaces here: run the daemon as root (or with CAP_SYS_ADMIN) on a kernel with namespaces")
        }

        var cgroups: CgroupHierarchy?
        do throws(SandboxError) {
            guard let hierarchy = configuration.cgroupHierarchy ?? CgroupHierarchy.current() else {
                throw .cgroup("no cgroup v1 or v2 hierarchy with memory, pids, cpu and cpuacct was found in /proc/self/mountinfo")
            }
            try hierarchy.prepare()
            let test = try JobCgroup.create(in: hierarchy, id: "probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))", memoryBytes: 64 << 20, pidsMax: 8, cpuCores: 1)
            await test.destroy()
            cgroups = hierarchy
        } catch {
            guard configuration.unsafeAllowMissingCgroups else {
                throw .cgroup("\(error.message). Jobs need a cgroup for their memory, pids and cpu limits; to run without them anyway, pass --unsafe-allow-missing-cgroups")
            }
        }
        return SandboxHost(denoVersion: version, denoLibraries: libraries, userNamespace: userNamespace, cgroups: cgroups)
    }

    /// Asks the jail to create its namespaces once (`oauth3-jail --probe`).
    static func probe(jail: String, userNamespace: Bool) async -> Bool {
        let arguments = ["--probe"] + (userNamespace ? [] : ["--unsafe-no-user-namespace"])
        let result = try? await Subprocess.run(
            .path(FilePath(jail)), arguments: Arguments(arguments), environment: .custom([[UInt8]]()),
            output: .discarded, error: .discarded)
        return result?.terminationStatus == .exited(0)
    }

    /// The libraries `ldd` lists for `binary`, as absolute host paths (empty for a static binary).
    public static func sharedLibraries(of binary: String) async throws(SandboxError) -> [String] {
        let output: String
        do {
            let result = try await Subprocess.run(
                .path(FilePath("/usr/bin/ldd")), arguments: [binary], environment: .custom([[UInt8]]()),
                output: .string(limit: 64 * 1024), error: .discarded)
            output = result.standardOutput
        } catch {
            throw .isolation("cannot list the libraries of \(binary) with ldd: \(error)")
        }
        return parseLdd(output)
    }

    /// Parses `ldd` output: `name => /path (0x…)` and `/path (0x…)` lines; the vDSO has no file.
    static func parseLdd(_ output: String) -> [String] {
        var paths: [String] = []
        for line in output.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            let path = words.firstIndex(of: "=>").flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil } ?? words.first
            if let path, path.hasPrefix("/"), !paths.contains(String(path)) { paths.append(String(path)) }
        }
        return paths
    }
}

import Crypto
import Foundation

extension SandboxHost {
    /// What ``inspect(_:)`` learns by starting programs (Deno's version, `ldd`, the jail's namespace probe)
    /// and by a test cgroup, remembered for one boot of the machine: one-shot runs (`oauth3-enclave run`)
    /// pay for it once per boot instead of once per run. A long-running daemon inspects once anyway.
    ///
    /// The file is keyed by everything the answers depend on: the boot, the Deno and jail binaries (path,
    /// size, modification time), the user-namespace mode and the cgroup parents; anything else changed is a
    /// miss. It lives in the work root (root's, mode 0700 files): whoever can write there runs jobs anyway.
    struct Facts: Codable, Hashable {
        var key: String
        var denoVersion: String
        var denoLibraries: [String]
        var userNamespace: Bool
        /// The parents a test cgroup was made under, or `nil` when cgroups were not available.
        var cgroupParents: [String]?
    }

    /// Like ``inspect(_:)``, reusing this boot's answers from `directory` when they still hold.
    public static func inspect(_ configuration: SandboxConfiguration, cachingIn directory: String) async throws(SandboxError) -> SandboxHost {
        let hierarchy = configuration.cgroupHierarchy ?? CgroupHierarchy.current()
        let key = cacheKey(configuration, hierarchy: hierarchy)
        let file = directory + "/host-facts-" + String(key.prefix(16)) + ".json"
        if let data = FileManager.default.contents(atPath: file), let facts = try? JSONDecoder().decode(Facts.self, from: data), facts.key == key {
            var cgroups: CgroupHierarchy?
            if let hierarchy, facts.cgroupParents == hierarchy.parentDirectories {
                try hierarchy.prepare()  // per process on v2: this process moves to its own leaf
                cgroups = hierarchy
            } else if !configuration.unsafeAllowMissingCgroups {
                return try await fresh(configuration, key: key, file: file)
            }
            return SandboxHost(denoVersion: facts.denoVersion, denoLibraries: facts.denoLibraries, userNamespace: facts.userNamespace, cgroups: cgroups)
        }
        return try await fresh(configuration, key: key, file: file)
    }

    private static func fresh(_ configuration: SandboxConfiguration, key: String, file: String) async throws(SandboxError) -> SandboxHost {
        let host = try await inspect(configuration)
        let facts = Facts(
            key: key, denoVersion: host.denoVersion, denoLibraries: host.denoLibraries, userNamespace: host.userNamespace,
            cgroupParents: host.cgroups?.parentDirectories)
        if let data = try? JSONEncoder().encode(facts) {
            let directory = (file as NSString).deletingLastPathComponent
            if mkdir(directory, 0o711) == 0 || errno == EEXIST {
                FileManager.default.createFile(atPath: file, contents: data, attributes: [.posixPermissions: 0o600])
            }
        }
        return host
    }

    /// SHA-256 over what the answers depend on.
    static func cacheKey(_ configuration: SandboxConfiguration, hierarchy: CgroupHierarchy?) -> String {
        func identity(_ path: String) -> String {
            var info = stat()
            guard stat(path, &info) == 0 else { return "\(path):missing" }
            return "\(path):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec):\(info.st_ino)"
        }
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? "unknown-boot-\(getpid())"
        let parts = [
            "oauth3-host-facts/v1", boot.trimmingCharacters(in: .whitespacesAndNewlines), identity(configuration.denoPath),
            identity(configuration.jailPath), configuration.userNamespace.rawValue,
            (hierarchy?.parentDirectories ?? []).joined(separator: ","), "\(configuration.unsafeAllowMissingCgroups)",
        ]
        return SHA256.hash(data: Data(parts.joined(separator: "\n").utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

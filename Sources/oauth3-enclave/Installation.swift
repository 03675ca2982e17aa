import ArgumentParser
import Foundation
import Gateway
import Sandbox

extension SandboxConfiguration.UserNamespaceMode: ExpressibleByArgument {}

/// Where the programs and policy files are, found once at start.
///
/// Each is taken from its flag, then its environment variable, then the places an installation or a
/// checkout of this repository puts it (the repository is found by walking up from this executable).
struct Installation {
    let denoPath: String
    let jailPath: String
    let policyDirectory: String

    /// Flags shared by every subcommand that runs skills.
    struct Options: ParsableArguments {
        @Option(help: "Deno binary (default: $OAUTH3_DENO, then .tools/deno/bin/deno of this checkout, then PATH).")
        var deno: String?
        @Option(help: "oauth3-jail binary (default: $OAUTH3_JAIL, then next to this executable).")
        var jail: String?
        @Option(help: "Policy directory (default: $OAUTH3_POLICIES, then policies/ of this checkout, then /usr/share/oauth3-enclave/policies).")
        var policies: String?
        @Option(help: "Where per-job directories are made (default: $OAUTH3_WORK_DIR, then /dev/shm/oauth3-enclave-UID, then $TMPDIR/oauth3-enclave-UID).")
        var workDir: String?
        @Option(help: "User namespaces for jobs: automatic (when the kernel allows; the default), required, or unsafe-disabled ($OAUTH3_USER_NAMESPACE).")
        var userNamespace: SandboxConfiguration.UserNamespaceMode?
        @Option(help: "PEM file of extra CA certificates the egress proxy trusts for upstreams of jobs holding bound secrets, besides the system's roots ($OAUTH3_EGRESS_EXTRA_CA).")
        var egressExtraCa: String?
        @Flag(help: "Run jobs without cgroups (no memory, pids or cpu limits) where they cannot be created.")
        var unsafeAllowMissingCgroups = false
    }

    static func locate(_ options: Options) throws -> Installation {
        let environment = ProcessInfo.processInfo.environment
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let here = Self.selfExecutable() ?? executable
        let checkout = Self.ancestors(of: here.deletingLastPathComponent()).first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("policies/limits.json").path)
        }

        let deno = try Self.pick(
            "Deno", flag: options.deno, variable: ServeEnvironment.deno.value(in: environment),
            candidates: [checkout?.appendingPathComponent(".tools/deno/bin/deno").path].compactMap { $0 }
                + Self.pathCandidates("deno", environment["PATH"]),
            hint: "run `make setup` (installs Deno 2.9.8 into .tools/) or pass --deno")
        let jail = try Self.pick(
            "oauth3-jail", flag: options.jail, variable: ServeEnvironment.jail.value(in: environment),
            candidates: [here.deletingLastPathComponent().appendingPathComponent("oauth3-jail").path],
            hint: "build it with `swift build` or pass --jail")
        let policies = try Self.pick(
            "policy directory", flag: options.policies, variable: ServeEnvironment.policies.value(in: environment),
            candidates: [checkout?.appendingPathComponent("policies").path, "/usr/share/oauth3-enclave/policies"].compactMap { $0 },
            hint: "pass --policies DIR", isDirectory: true)
        return Installation(denoPath: deno, jailPath: jail, policyDirectory: policies)
    }

    /// The sandbox configuration these options describe.
    /// - Throws: when `$OAUTH3_USER_NAMESPACE` names no mode.
    func sandboxConfiguration(_ options: Options, policy: PolicySet) throws -> SandboxConfiguration {
        var configuration = SandboxConfiguration(
            denoPath: denoPath, jailPath: jailPath, workRoot: Self.workRoot(options), policy: policy)
        let variable = ServeEnvironment.userNamespace
        if let mode = options.userNamespace {
            configuration.userNamespace = mode
        } else if let text = variable.value(in: ProcessInfo.processInfo.environment) {
            guard let mode = SandboxConfiguration.UserNamespaceMode(rawValue: text) else {
                throw ValidationError("\(variable.rawValue) must be automatic, required or unsafe-disabled, not '\(text)'")
            }
            configuration.userNamespace = mode
        }
        configuration.unsafeAllowMissingCgroups = options.unsafeAllowMissingCgroups
        configuration.egressExtraTrustRoots = options.egressExtraCa ?? ServeEnvironment.egressExtraCA.value(in: ProcessInfo.processInfo.environment)
        return configuration
    }

    static func workRoot(_ options: Options) -> String {
        if let flag = options.workDir { return flag }
        let environment = ProcessInfo.processInfo.environment
        if let variable = ServeEnvironment.workDirectory.value(in: environment) { return variable }
        // A tmpfs: a job directory holds only a mount point and a report, and on a journaling disk creating
        // and removing one costs milliseconds per job (measured: 8 ms on ext4, 0.03 ms on tmpfs).
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory), isDirectory.boolValue {
            return "/dev/shm/oauth3-enclave-\(getuid())"
        }
        let base = environment["TMPDIR"].map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "/tmp"
        return "\(base)/oauth3-enclave-\(getuid())"
    }

    private static func selfExecutable() -> URL? {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return URL(fileURLWithPath: path)
    }

    private static func ancestors(of url: URL) -> [URL] {
        var out: [URL] = []
        var current = url.standardizedFileURL
        while current.path != "/" {
            out.append(current)
            current = current.deletingLastPathComponent()
        }
        return out
    }

    private static func pathCandidates(_ name: String, _ path: String?) -> [String] {
        (path ?? "").split(separator: ":").map { "\($0)/\(name)" }
    }

    private static func pick(
        _ what: String, flag: String?, variable: String?, candidates: [String], hint: String, isDirectory: Bool = false
    ) throws -> String {
        func usable(_ path: String) -> Bool {
            var directory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &directory) else { return false }
            return isDirectory ? directory.boolValue : (!directory.boolValue && FileManager.default.isExecutableFile(atPath: path))
        }
        func absolute(_ path: String) -> String {
            URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        }
        if let explicit = flag ?? variable {
            guard usable(explicit) else { throw ValidationError("\(what) not found at \(explicit)") }
            return absolute(explicit)
        }
        guard let found = candidates.first(where: usable) else {
            throw ValidationError("\(what) not found (looked in: \(candidates.joined(separator: ", "))); \(hint)")
        }
        return absolute(found)
    }
}

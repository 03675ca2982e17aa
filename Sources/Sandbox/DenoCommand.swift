import Egress
import SkillManifest

/// The Deno command line and environment for one job, derived from the manifest alone (ARCHITECTURE.md,
/// layer 5). A pure value, so the exact flags can be unit-tested and shown by `run --explain`.
public struct DenoCommand: Sendable, Hashable {
    /// Arguments after the Deno binary's path.
    public let arguments: [String]
    /// The environment Deno starts with, as `(name, value)` pairs; secret values included.
    public let environment: [(name: String, value: String)]
    /// The variables from ``environment`` that are secrets, so displays can mask them.
    public let secretNames: [String]
    /// How many entries at the start of ``environment`` are Deno's settings: constants of the jail's layout
    /// and the policy, the same for every job with the same header, never a secret or an argument.
    public let settingsCount: Int

    /// Flags that hold whatever the manifest says: no prompts, no configuration or lock files picked up
    /// from the working directory, no npm or remote modules, and every permission family denied.
    public static let fixedFlags = [
        "--no-prompt", "--no-config", "--no-lock", "--no-npm", "--no-remote",
        "--deny-import", "--deny-read", "--deny-write", "--deny-run", "--deny-ffi", "--deny-sys",
    ]

    /// Derives the command for `manifest`.
    ///
    /// **Environment variables** are readable without restriction (`--allow-env`), so a skill that asks for
    /// a variable nobody declared gets `undefined`, as in Node, instead of a `NotCapable` crash. That is
    /// safe only because of what the environment holds: the jail starts Deno with exactly ``environment``
    /// (a booted jail with its first ``settingsCount`` entries, the rest set by the preload before the script
    /// loads: ``booted``; ``JailPlan/EnvironmentBlock``: nothing of the daemon's or the jail's own environment,
    /// no `PATH`), which
    /// is the granted secrets, the named arguments, and Deno's own settings below; those are constants of
    /// the jail's layout (`HOME=/home`, `TMPDIR=/tmp`, `DENO_DIR=/deno`, `NO_COLOR`,
    /// `DENO_NO_UPDATE_CHECK`, `DENO_DISABLE_NODE_SHIM`) and, for a job with hosts, the egress bridge's
    /// loopback address (`HTTP_PROXY`, `HTTPS_PROXY`), the same for every job and nothing of the host, and for
    /// a job holding bound secrets `DENO_CERT` (its own CA certificate; those secrets' variables hold placeholders). A
    /// skill may also set variables: only in its own process, where the proxy is still the only way out.
    /// - Parameters:
    ///   - manifest: the validated header.
    ///   - secrets: values of the granted secrets (only names the manifest declares are used).
    ///   - limits: the operator's limits (heap size).
    ///   - refusedRanges: ranges also denied by Deno's own flag (IPv4 only: Deno cannot express IPv6 ranges).
    ///     The egress proxy is the boundary; this is a second, independent check.
    ///   - egressProxy: the proxy URL inside the job's namespace, for a job that declared hosts.
    ///   - unsafeOpenPermissions: `--allow-all` instead (the layers-only escape tests).
    ///   - environmentArguments: non-secret named arguments, readable by the skill as variables.
    ///   - interceptionCertificate: for a job holding bound secrets, the path (inside the job) of its own
    ///     CA certificate, as `DENO_CERT`. Deno adds it to the roots it already trusts; it is
    ///     name-constrained to the job's hosts, and only that job's proxy holds its key.
    public init(
        manifest: SkillManifest, secrets: [SecretName: String], limits: SandboxLimits,
        refusedRanges: [IPRange], egressProxy: String? = nil, unsafeOpenPermissions: Bool = false,
        environmentArguments: [SecretName: String] = [:], interceptionCertificate: String? = nil
    ) {
        var arguments = ["run"] + Self.fixedFlags
        let granted = manifest.secrets.filter { secrets[$0] != nil }
        let argumentNames = environmentArguments.keys.filter { !manifest.secrets.contains($0) }.sorted()
        if unsafeOpenPermissions {
            arguments = ["run", "--no-prompt", "--no-config", "--no-lock", "--allow-all"]
        } else {
            arguments.append("--allow-env")
        }
        if unsafeOpenPermissions {
            // every permission already granted
        } else if manifest.network.isEmpty {
            arguments.append("--deny-net")
        } else {
            arguments.append("--allow-net=" + manifest.network.map(\.denoPermission).joined(separator: ","))
            // Deno checks the proxy's own address against --deny-net too, so loopback (where the bridge
            // listens, alone in the job's namespace) stays off the list.
            let bridge = IPAddress("127.0.0.1")!
            let denied = ["localhost"] + refusedRanges.filter { $0.isIPv4 && !$0.contains(bridge) }.map(\.text)
            arguments.append("--deny-net=" + denied.joined(separator: ","))
        }
        arguments.append("--v8-flags=--max-old-space-size=\(limits.heapMiB)")
        arguments.append("-")  // the script comes on stdin: nothing of it touches the filesystem
        self.arguments = arguments

        var environment: [(name: String, value: String)] = [
            ("HOME", JailLayout.home), ("TMPDIR", JailLayout.tmp), ("DENO_DIR", JailLayout.denoDir),
            ("NO_COLOR", "1"), ("DENO_NO_UPDATE_CHECK", "1"),
            // Deno 2.9 otherwise copies its own 96 MB binary into DENO_DIR as a `node` shim on every start.
            ("DENO_DISABLE_NODE_SHIM", "1"),
        ]
        if let egressProxy, !manifest.network.isEmpty {
            // Deno's fetch sends every request through the proxy; nothing else in the namespace leads out.
            environment += [("HTTP_PROXY", egressProxy), ("HTTPS_PROXY", egressProxy)]
            if let interceptionCertificate { environment.append(("DENO_CERT", interceptionCertificate)) }
        }
        self.settingsCount = environment.count
        for name in granted { environment.append((name.rawValue, secrets[name]!)) }
        for name in argumentNames { environment.append((name.rawValue, environmentArguments[name]!)) }
        self.environment = environment
        self.secretNames = granted.map(\.rawValue)
    }

    private init(arguments: [String], environment: [(name: String, value: String)], secretNames: [String], settingsCount: Int) {
        self.arguments = arguments
        self.environment = environment
        self.secretNames = secretNames
        self.settingsCount = settingsCount
    }

    /// The same command for a booted jail (``JailPlan/JailConfiguration/booted``): Deno runs the daemon's
    /// preload module (``JailLayout/bootPreload``), which sets the job's variables, then the script as a file
    /// (``JailLayout/bootScript``, the very name Deno gives a script read from stdin in the working
    /// directory, so the module's URL, `import.meta.main`, stack traces and error messages are the same).
    public var booted: DenoCommand {
        precondition(arguments.last == "-", "the script comes on stdin")
        return DenoCommand(
            arguments: arguments.dropLast() + ["--preload", JailLayout.bootPreload, JailLayout.bootScript],
            environment: environment, secretNames: secretNames, settingsCount: settingsCount)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.arguments == rhs.arguments && lhs.secretNames == rhs.secretNames
            && lhs.environment.map { "\($0.name)=\($0.value)" } == rhs.environment.map { "\($0.name)=\($0.value)" }
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(arguments) }
}

import Egress

/// Where the sandbox's programs are and which policy it enforces. Built once at start, passed down.
public struct SandboxConfiguration: Sendable {
    /// Whether jobs get a user namespace.
    public enum UserNamespaceMode: String, Sendable {
        /// When the kernel allows one (probed at start; the choice is reported in every result).
        case automatic
        /// Always; refuse to start where the kernel does not allow one.
        case required
        /// Never (the jail then relies on real root for setup and drops to the job's uid).
        case unsafeDisabled = "unsafe-disabled"
    }

    /// Absolute path of the Deno binary.
    public var denoPath: String
    /// Absolute path of the `oauth3-jail` binary.
    public var jailPath: String
    /// Directory under which each job gets a private directory (its root's mount point and the jail's
    /// report), removed afterwards.
    public var workRoot: String
    /// The policy files in force: limits, refused network ranges, seccomp, and their hash.
    public var policy: PolicySet
    public var userNamespace = UserNamespaceMode.automatic
    /// Where job cgroups go; `nil` finds the daemon's own.
    public var cgroupHierarchy: CgroupHierarchy?
    /// Runs jobs without cgroups (no memory, pids or cpu limits) where they cannot be created.
    public var unsafeAllowMissingCgroups = false
    /// Resolves names for the egress proxies; `nil` asks the policy's name servers (or the system's).
    public var egressResolver: (any NameResolver)?
    /// A PEM file of certificates the egress proxy also trusts when it re-originates TLS for a job holding
    /// bound secrets (`OAUTH3_EGRESS_EXTRA_CA`): a deployment's internal CA, or the tests' local HTTPS host.
    /// `nil`: the system's roots alone.
    public var egressExtraTrustRoots: String?
    /// Jails prepared ahead of jobs (off by default: the daemon turns it on, one-shot runs do not need it).
    public var pool = JailPoolConfiguration()
    /// Where warm Deno caches for code that has run before are kept (``DenoCache``; emptied at start), and the
    /// most they may hold. `nil`: no cache (one-shot runs).
    public var denoCacheDirectory: String?
    public var denoCacheMaximumBytes = 256 << 20
    /// The run of one code without a warm cache after which its cache is written (``DenoCache/writeAfterRuns``).
    public var denoCacheWriteAfterRuns = 2
    /// Gives Deno `--allow-all` instead of the manifest's permissions: the escape tests' "layers-only"
    /// mode, which proves the OS layers hold by themselves. Never for real jobs.
    public var unsafeOpenDenoPermissions = false

    public init(denoPath: String, jailPath: String, workRoot: String, policy: PolicySet) {
        self.denoPath = denoPath
        self.jailPath = jailPath
        self.workRoot = workRoot
        self.policy = policy
    }
}

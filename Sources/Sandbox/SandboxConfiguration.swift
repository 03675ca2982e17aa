/// Where the sandbox's programs are and which policy it enforces. Built once at start, passed down.
public struct SandboxConfiguration: Sendable {
    /// Absolute path of the Deno binary.
    public var denoPath: String
    /// Absolute path of the `oauth3-jail` binary.
    public var jailPath: String
    /// Directory under which each job gets a private directory (HOME, /tmp, DENO_DIR), removed afterwards.
    public var workRoot: String
    /// The policy files in force: limits, refused network ranges, and their hash.
    public var policy: PolicySet

    public init(denoPath: String, jailPath: String, workRoot: String, policy: PolicySet) {
        self.denoPath = denoPath
        self.jailPath = jailPath
        self.workRoot = workRoot
        self.policy = policy
    }
}

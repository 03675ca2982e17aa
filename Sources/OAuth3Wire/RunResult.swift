/// The result of one job, as the sandbox (`Sandbox.SkillRunner`) produces it and `oauth3-enclave run`
/// prints it; the API serves it inside an ``AttestedResult`` (its fields are the attested object's).
///
/// Keeps the SDK's fields (`stdout`, `stderr`, `exitCode`, `duration`) and adds what the daemon observed.
/// Output is already redacted; no secret value is ever part of a result.
///
/// A new field is one stored property, one `CodingKeys` case and one line in ``encode(to:)`` (and the
/// initialiser): the attested encoding, the store and `verify` follow from the type.
public struct RunResult: Sendable, Codable, Hashable {
    /// What the job was granted.
    public struct Granted: Sendable, Codable, Hashable {
        /// Hosts, as `host:port` or `*.host:port`.
        public var net: [String]
        /// Secret names injected as environment variables.
        public var env: [String]

        public init(net: [String], env: [String]) {
            self.net = net
            self.env = env
        }
    }

    /// The isolation a job ran under, so a reader knows which layers held it.
    public struct Isolation: Sendable, Codable, Hashable {
        /// Whether the job had a user namespace.
        public var userNamespace: Bool
        /// `v1`, `v2`, or `none` (only when the operator explicitly allowed running without cgroups).
        public var cgroups: String
        /// `loopback` (a network namespace with loopback alone) or `proxy` (the same, plus the bridge to
        /// the job's egress proxy).
        public var network: String
        /// Whether the seccomp filter was loaded.
        public var seccomp: Bool

        enum CodingKeys: String, CodingKey { case userNamespace = "user_namespace", cgroups, network, seccomp }

        public init(userNamespace: Bool, cgroups: String, network: String, seccomp: Bool) {
            self.userNamespace = userNamespace
            self.cgroups = cgroups
            self.network = network
            self.seccomp = seccomp
        }
    }

    public var success: Bool
    /// `completed` when the outcome is `ok`, otherwise `failed`.
    public var status: String
    public var outcome: Outcome
    /// The exit code, or `nil` when a signal ended the process.
    public var exitCode: Int32?
    /// The signal that ended the process (`SIGKILL`, …), or `nil` when it exited.
    public var signal: String?
    public var stdout: String
    public var stderr: String
    public var stdoutTruncated: Bool
    public var stderrTruncated: Bool
    /// Wall-clock time from start to exit, in milliseconds.
    public var duration: Int
    /// The `@skill` id.
    public var skill: String
    /// Lowercase hex SHA-256 of the exact source that ran.
    public var codeSHA256: String
    public var granted: Granted
    /// The wall-clock limit the job ran under, in seconds.
    public var timeoutSeconds: Int
    public var denoVersion: String
    /// Hash of the policy files in force (see ``PolicySet``).
    public var policySHA256: String
    /// Things the caller should know that did not stop the job (e.g. a secret given but not declared).
    public var warnings: [String]
    /// Why the sandbox failed, for `sandbox_error`.
    public var error: String?
    /// Peak memory of the job's cgroup, in bytes (`nil` without cgroups).
    public var memPeakBytes: UInt64?
    /// CPU time in user and kernel mode, in milliseconds (`nil` without cgroups).
    public var cpuUserMs: UInt64?
    public var cpuSysMs: UInt64?
    public var sandbox: Isolation
    /// What the job did on the network (`nil` for a job without `@network`).
    public var network: NetworkTranscript?

    /// Every field, as the sandbox fills it in.
    public init(
        success: Bool, status: String, outcome: Outcome, exitCode: Int32?, signal: String?, stdout: String, stderr: String,
        stdoutTruncated: Bool, stderrTruncated: Bool, duration: Int, skill: String, codeSHA256: String, granted: Granted,
        timeoutSeconds: Int, denoVersion: String, policySHA256: String, warnings: [String], error: String?,
        memPeakBytes: UInt64?, cpuUserMs: UInt64?, cpuSysMs: UInt64?, sandbox: Isolation, network: NetworkTranscript?
    ) {
        self.success = success
        self.status = status
        self.outcome = outcome
        self.exitCode = exitCode
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
        self.duration = duration
        self.skill = skill
        self.codeSHA256 = codeSHA256
        self.granted = granted
        self.timeoutSeconds = timeoutSeconds
        self.denoVersion = denoVersion
        self.policySHA256 = policySHA256
        self.warnings = warnings
        self.error = error
        self.memPeakBytes = memPeakBytes
        self.cpuUserMs = cpuUserMs
        self.cpuSysMs = cpuSysMs
        self.sandbox = sandbox
        self.network = network
    }

    enum CodingKeys: String, CodingKey {
        case success, status, outcome, exitCode, signal, stdout, stderr
        case stdoutTruncated = "stdout_truncated", stderrTruncated = "stderr_truncated", duration, skill
        case codeSHA256 = "code_sha256", granted, timeoutSeconds = "timeout_seconds", denoVersion = "deno_version"
        case policySHA256 = "policy_sha256", warnings, error
        case memPeakBytes = "mem_peak_bytes", cpuUserMs = "cpu_user_ms", cpuSysMs = "cpu_sys_ms", sandbox, network
    }

    /// Encodes optionals as explicit `null`, so every field is always present.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(success, forKey: .success)
        try c.encode(status, forKey: .status)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(exitCode, forKey: .exitCode)
        try c.encode(signal, forKey: .signal)
        try c.encode(stdout, forKey: .stdout)
        try c.encode(stderr, forKey: .stderr)
        try c.encode(stdoutTruncated, forKey: .stdoutTruncated)
        try c.encode(stderrTruncated, forKey: .stderrTruncated)
        try c.encode(duration, forKey: .duration)
        try c.encode(skill, forKey: .skill)
        try c.encode(codeSHA256, forKey: .codeSHA256)
        try c.encode(granted, forKey: .granted)
        try c.encode(timeoutSeconds, forKey: .timeoutSeconds)
        try c.encode(denoVersion, forKey: .denoVersion)
        try c.encode(policySHA256, forKey: .policySHA256)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(error, forKey: .error)
        try c.encode(memPeakBytes, forKey: .memPeakBytes)
        try c.encode(cpuUserMs, forKey: .cpuUserMs)
        try c.encode(cpuSysMs, forKey: .cpuSysMs)
        try c.encode(sandbox, forKey: .sandbox)
        try c.encode(network, forKey: .network)
    }
}

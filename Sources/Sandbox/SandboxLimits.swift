/// Per-job resource bounds the operator sets (from `policies/limits.json`); a skill cannot raise them.
public struct SandboxLimits: Sendable, Hashable, Codable {
    /// Most bytes of stdout kept; the job is killed when it writes more.
    public var stdoutMaxBytes: Int
    /// Most bytes of stderr kept; the job is killed when it writes more.
    public var stderrMaxBytes: Int
    /// V8's old-space limit (`--max-old-space-size`), in MiB. It bounds the JavaScript heap only:
    /// ArrayBuffers and WebAssembly memory need the cgroup of the jail.
    public var heapMiB: Int

    public init(stdoutMaxBytes: Int = 1 << 20, stderrMaxBytes: Int = 1 << 20, heapMiB: Int = 256) {
        self.stdoutMaxBytes = stdoutMaxBytes
        self.stderrMaxBytes = stderrMaxBytes
        self.heapMiB = heapMiB
    }

    enum CodingKeys: String, CodingKey {
        case stdoutMaxBytes = "stdout_max_bytes", stderrMaxBytes = "stderr_max_bytes", heapMiB = "heap_mib"
    }
}

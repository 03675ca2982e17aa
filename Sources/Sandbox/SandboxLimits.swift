/// Per-job resource bounds the operator sets (from `policies/limits.json`); a skill cannot raise them.
public struct SandboxLimits: Sendable, Hashable, Codable {
    /// Most bytes of stdout kept; the job is killed when it writes more.
    public var stdoutMaxBytes: Int
    /// Most bytes of stderr kept; the job is killed when it writes more.
    public var stderrMaxBytes: Int
    /// V8's old-space limit (`--max-old-space-size`), in MiB. It bounds the JavaScript heap only:
    /// ArrayBuffers and WebAssembly memory are bounded by ``memoryMiB``.
    public var heapMiB: Int
    /// The job's cgroup memory limit (swap off), in MiB: everything, heap, off-heap and tmpfs included.
    public var memoryMiB: Int
    /// The job's cgroup pids limit: processes and threads.
    public var pidsMax: Int
    /// CPU bandwidth, in cores (cgroup cpu quota).
    public var cpuCores: Double
    /// Size of each of the job's tmpfs mounts (HOME, /tmp, DENO_DIR), in MiB.
    public var tmpfsMiB: Int
    /// RLIMIT_NOFILE.
    public var openFiles: Int
    /// RLIMIT_FSIZE, in MiB: writing a larger file raises SIGXFSZ.
    public var fileSizeMiB: Int
    /// RLIMIT_CPU, in seconds of CPU time: a backstop behind the wall-clock timeout (SIGXCPU).
    public var cpuSeconds: Int
    /// The unprivileged user and group jobs run as.
    public var uid: UInt32
    public var gid: UInt32

    public init(
        stdoutMaxBytes: Int = 1 << 20, stderrMaxBytes: Int = 1 << 20, heapMiB: Int = 256, memoryMiB: Int = 512,
        pidsMax: Int = 256, cpuCores: Double = 1, tmpfsMiB: Int = 16, openFiles: Int = 1024, fileSizeMiB: Int = 16,
        cpuSeconds: Int = 330, uid: UInt32 = 65534, gid: UInt32 = 65534
    ) {
        self.stdoutMaxBytes = stdoutMaxBytes
        self.stderrMaxBytes = stderrMaxBytes
        self.heapMiB = heapMiB
        self.memoryMiB = memoryMiB
        self.pidsMax = pidsMax
        self.cpuCores = cpuCores
        self.tmpfsMiB = tmpfsMiB
        self.openFiles = openFiles
        self.fileSizeMiB = fileSizeMiB
        self.cpuSeconds = cpuSeconds
        self.uid = uid
        self.gid = gid
    }

    enum CodingKeys: String, CodingKey {
        case stdoutMaxBytes = "stdout_max_bytes", stderrMaxBytes = "stderr_max_bytes", heapMiB = "heap_mib"
        case memoryMiB = "memory_mib", pidsMax = "pids_max", cpuCores = "cpu_cores", tmpfsMiB = "tmpfs_mib"
        case openFiles = "open_files", fileSizeMiB = "file_size_mib", cpuSeconds = "cpu_seconds", uid, gid
    }

    /// Problems with these values, each naming its field.
    func problems() -> [String] {
        var problems: [String] = []
        func positive(_ value: Int, _ key: CodingKeys) { if value <= 0 { problems.append("\(key.rawValue) must be positive") } }
        positive(stdoutMaxBytes, .stdoutMaxBytes)
        positive(stderrMaxBytes, .stderrMaxBytes)
        positive(heapMiB, .heapMiB)
        positive(memoryMiB, .memoryMiB)
        positive(pidsMax, .pidsMax)
        positive(tmpfsMiB, .tmpfsMiB)
        positive(openFiles, .openFiles)
        positive(fileSizeMiB, .fileSizeMiB)
        positive(cpuSeconds, .cpuSeconds)
        if !(cpuCores > 0) { problems.append("cpu_cores must be positive") }
        if uid == 0 || gid == 0 { problems.append("uid and gid must not be 0: jobs never run as root") }
        if heapMiB >= memoryMiB { problems.append("heap_mib must be below memory_mib, or the cgroup kills before V8 can report") }
        return problems
    }
}

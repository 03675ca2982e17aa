/// How a job ended, as the daemon observed it. Decided by ``OutcomeClassifier``, never by the script.
public enum Outcome: String, Sendable, Codable, CaseIterable {
    /// Exited 0 with no limit hit.
    case ok
    /// Exited with a non-zero code.
    case exitNonzero = "exit_nonzero"
    /// Killed at the wall-clock limit.
    case timeout
    /// Killed for writing more than the stdout or stderr cap.
    case outputLimit = "output_limit"
    /// V8 aborted because the JavaScript heap reached `--max-old-space-size`.
    case heapOOM = "heap_oom"
    /// The kernel killed it at the cgroup's memory limit (heap, ArrayBuffers, WebAssembly, tmpfs: all of it).
    case memoryLimit = "memory_limit"
    /// A process or thread could not be created at the cgroup's pids limit.
    case pidsLimit = "pids_limit"
    /// A system call on the seccomp kill list (SIGSYS).
    case seccompViolation = "seccomp_violation"
    /// A file grew past RLIMIT_FSIZE (SIGXFSZ).
    case fileSizeLimit = "file_size_limit"
    /// CPU time passed RLIMIT_CPU (SIGXCPU).
    case cpuLimit = "cpu_limit"
    /// Ended by a signal the daemon did not send.
    case killed
    /// The jail could not set up the sandbox; the skill never ran.
    case sandboxError = "sandbox_error"

    /// Whether the job counts as a success.
    public var isSuccess: Bool { self == .ok }
}

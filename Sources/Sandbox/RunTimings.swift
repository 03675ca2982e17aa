/// Where one job's time went inside the runner, for the daemon's per-job log line and `make bench`.
/// Durations on a monotonic clock; nothing here depends on what the job wrote.
public struct RunTimings: Sendable, Hashable {
    /// Getting a jail: taking a prepared one from the pool (a hit), or starting one (a miss, which then
    /// prepares while the job waits in ``jobRun``).
    public var jail: Duration = .zero
    /// From the claim to the jail's end: the rest of a jail's preparation on a miss, Deno, the script.
    public var jobRun: Duration = .zero
    /// Reading the cgroup's counters and the jail's report, killing what is left, removing the cgroup and directory.
    public var cleanup: Duration = .zero
    /// Classifying the outcome and redacting the outputs.
    public var classify: Duration = .zero
    /// Whether the jail came prepared from the pool.
    public var pooled = false
    /// Whether its Deno had started before the claim (a booted jail: ``BootShape``).
    public var booted = false
    /// Whether the job started with a warm Deno cache (``DenoCache``); `nil` when it has no cache scope, or ran
    /// in a booted jail (whose Deno opened its caches before the job existed).
    public var denoCache: Bool?

    public init() {}
}

import Egress
import OAuth3Wire
import Prometheus
import Sandbox
import Store
import Synchronization

/// What `GET /metrics` reports, in Prometheus' text format: counts and durations, nothing else.
///
/// Every label value comes from a closed set fixed here (outcome names, failure stages), never from a
/// request: no tenant, job id, skill name, host or secret can reach a metric, so the endpoint is safe to
/// expose next to `/healthz`. Each daemon owns its registry (no process-wide metrics bootstrap), which
/// keeps the daemons that tests start side by side apart. swift-prometheus' registry is used directly,
/// rather than through swift-metrics' factory, because only the registry's API writes `# HELP` lines.
public struct EnclaveMetrics: Sendable {
    /// The outcomes a finished job is counted under: the sandbox's, plus `interrupted` (shutdown).
    public static let outcomes = Outcome.allCases.map(\.rawValue) + ["interrupted"]
    /// Where a sandbox failure happened: reported by the jail, or thrown before or around it.
    public static let failureStages = ["jail", "runner"]

    public let registry: PrometheusCollectorRegistry
    private let queueDepth: Gauge
    private let running: Gauge
    private let longPolls: Gauge
    private let jobs: [String: Counter]
    private let jobDuration: DurationHistogram
    private let sandboxFailures: [String: Counter]
    private let attestationLatency: DurationHistogram
    private let attestationFailures: Counter
    private let egressConnections: Counter
    private let egressBytes: Counter
    private let egressRefusals: [String: Counter]
    private let stranded: Counter
    private let refusals: [String: Counter]
    private let purged: Counter
    private let integrityViolations: [String: Counter]
    private let pool: [String: Counter]
    private let poolIdle: Gauge
    private let poolBooted: Counter
    /// The pool's counts already added to ``pool`` (the pool counts; the counters follow at each scrape).
    private let poolReported = PoolReported()

    /// Registers every series at zero, so a scrape shows them before the first job.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        queueDepth = registry.makeGauge(name: "oauth3_queue_depth", help: "Approved jobs waiting for a worker")
        running = registry.makeGauge(name: "oauth3_jobs_running", help: "Jobs running now")
        longPolls = registry.makeGauge(name: "oauth3_long_polls_held", help: "Status requests held open with wait=true, all tenants")
        var jobs: [String: Counter] = [:]
        for outcome in Self.outcomes {
            jobs[outcome] = registry.makeCounter(
                name: "oauth3_jobs_total", labels: [("outcome", outcome)], help: "Finished jobs by outcome")
        }
        self.jobs = jobs
        jobDuration = registry.makeDurationHistogram(
            name: "oauth3_job_duration_seconds",
            buckets: [.milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
                      .seconds(30), .seconds(60), .seconds(120), .seconds(300)],
            help: "Time from a job's start to its result (sandbox, supervision, attestation)")
        var failures: [String: Counter] = [:]
        for stage in Self.failureStages {
            failures[stage] = registry.makeCounter(
                name: "oauth3_sandbox_failures_total", labels: [("stage", stage)], help: "Jobs whose sandbox could not be set up")
        }
        sandboxFailures = failures
        attestationLatency = registry.makeDurationHistogram(
            name: "oauth3_attestation_duration_seconds",
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                      .milliseconds(500), .seconds(1), .seconds(2), .seconds(5)],
            help: "Time to hash, sign and quote one result through the guest agent")
        attestationFailures = registry.makeCounter(
            name: "oauth3_attestation_failures_total", help: "Results the guest agent could not quote")
        egressConnections = registry.makeCounter(name: "oauth3_egress_connections_total", help: "Connections jobs made through their egress proxies")
        egressBytes = registry.makeCounter(name: "oauth3_egress_bytes_total", help: "Bytes relayed by egress proxies, both directions")
        var refusals: [String: Counter] = [:]
        for code in EgressRefusal.codes {
            refusals[code] = registry.makeCounter(
                name: "oauth3_egress_refusals_total", labels: [("code", code)], help: "Requests egress proxies refused, by reason")
        }
        egressRefusals = refusals
        stranded = registry.makeCounter(
            name: "oauth3_queue_stranded_total", help: "Approved jobs an idle worker had not taken, found by the periodic sweep (should stay 0)")
        var admission: [String: Counter] = [:]
        for limit in Self.admissionLimits {
            admission[limit] = registry.makeCounter(
                name: "oauth3_admission_refusals_total", labels: [("limit", limit)], help: "Requests refused with 429, by the limit that refused them")
        }
        self.refusals = admission
        purged = registry.makeCounter(name: "oauth3_requests_expired_total", help: "Requests that expired unanswered and were purged with their code")
        var violations: [String: Counter] = [:]
        for table in Store.protectedTables {
            violations[table] = registry.makeCounter(
                name: "oauth3_integrity_violations_total", labels: [("table", table)],
                help: "Rows refused because they were changed outside the enclave (their MAC or seal does not verify), by table")
        }
        integrityViolations = violations
        var pool: [String: Counter] = [:]
        for result in Self.poolResults {
            pool[result] = registry.makeCounter(
                name: "oauth3_jail_pool_total", labels: [("result", result)],
                help: "Jails by how they were used: hit (a job took a prepared one), miss (started for the job), discarded (failed while prepared), retired (unused)")
        }
        self.pool = pool
        poolIdle = registry.makeGauge(name: "oauth3_jail_pool_idle", help: "Prepared jails waiting for a job")
        poolBooted = registry.makeCounter(
            name: "oauth3_jail_pool_booted_total", help: "Hits whose jail was booted: Deno had started before the job arrived")
    }

    /// The limits a request can be refused by (429): the store's admission limits and the long-poll quota.
    public static let admissionLimits = AdmissionRefusal.Limit.allCases.map(\.rawValue) + ["long_polls"]

    /// Counts approved jobs found waiting while a worker was idle.
    func strandedJobsFound(_ count: Int) { stranded.increment(by: Int64(count)) }

    /// Counts a request refused by `limit` (one of ``admissionLimits``).
    func refused(by limit: String) { refusals[limit]?.increment() }

    /// Counts a row refused for its integrity, the first time it is found.
    func integrityViolation(table: String) { integrityViolations[table]?.increment() }

    /// Counts requests that expired unanswered.
    func expired(_ count: Int) { purged.increment(by: Int64(count)) }

    /// Adds a finished job's network transcript: its connections, bytes, and refusals by code.
    func egress(_ transcript: NetworkTranscript?) {
        guard let transcript else { return }
        egressConnections.increment(by: Int64(transcript.connections.count))
        egressBytes.increment(by: Int64(transcript.totalBytes))
        // Refusals past the transcript's first 256 have no recorded code, so they are not counted here.
        for refusal in transcript.refused { egressRefusals[refusal.code]?.increment() }
    }

    /// Counts a finished job under `outcome` (one of ``outcomes``) and records how long it took.
    func jobFinished(outcome: String, duration: Duration) {
        jobs[outcome]?.increment()
        jobDuration.record(duration)
    }

    /// Counts a sandbox that could not be set up, at `stage` (one of ``failureStages``).
    func sandboxFailed(stage: String) {
        sandboxFailures[stage]?.increment()
    }

    /// Records one attestation: its latency, or its failure.
    func attestation(took duration: Duration, failed: Bool) {
        if failed { attestationFailures.increment() } else { attestationLatency.record(duration) }
    }

    /// How a job's jail is counted in `oauth3_jail_pool_total`.
    public static let poolResults = ["hit", "miss", "discarded", "retired"]

    /// The exposition, with the gauges set to `queued`, `runningNow` and `heldLongPolls` at the moment of the
    /// scrape, and the pool's counters brought up to `pool`'s counts (`nil`: no pool).
    func exposition(queued: Int, runningNow: Int, heldLongPolls: Int, pool counts: JailPool.Statistics? = nil) -> [UInt8] {
        if let counts {
            let before = poolReported.exchange(counts)
            pool["hit"]?.increment(by: Int64(max(0, counts.hits - before.hits)))
            pool["miss"]?.increment(by: Int64(max(0, counts.misses - before.misses)))
            pool["discarded"]?.increment(by: Int64(max(0, counts.discarded - before.discarded)))
            pool["retired"]?.increment(by: Int64(max(0, counts.retired - before.retired)))
            poolBooted.increment(by: Int64(max(0, counts.bootedHits - before.bootedHits)))
            poolIdle.set(Int64(counts.idle))
        }
        queueDepth.set(Int64(queued))
        running.set(Int64(runningNow))
        longPolls.set(Int64(heldLongPolls))
        return registry.emitToBuffer()
    }
}

/// The pool's counts already added to the metrics' counters (a class: a `Mutex` cannot live in a copyable struct).
private final class PoolReported: Sendable {
    private let counts = Mutex(JailPool.Statistics())

    /// Records `counts` as reported and returns what was reported before.
    func exchange(_ new: JailPool.Statistics) -> JailPool.Statistics {
        counts.withLock { counts in
            defer { counts = new }
            return counts
        }
    }
}

import Logging
import ServiceLifecycle
import Store

/// Runs approved jobs with a fixed number of workers. The database is the queue.
///
/// There is no in-memory queue that could disagree with the database: a job is queued by being stored
/// `approved`, and a worker takes one by claiming it in the store (``Store/claimNextJob(at:choose:)``,
/// atomic, with ``FairShare`` picking the tenant). ``wake()`` tells idle workers to look again; a
/// periodic sweep also looks, so a lost wake-up delays a job by one sweep instead of stranding it, and
/// counts it (`oauth3_queue_stranded_total`, which should stay 0). The sweep also runs the service's
/// maintenance (expiring unanswered requests, trimming old results).
///
/// On graceful shutdown no new job starts; running jobs get `graceSeconds` to finish, then are cancelled
/// (their processes killed) and recorded as interrupted.
public actor JobScheduler: Service {
    public typealias Executor = @Sendable (JobRecord) async -> Void
    public typealias Maintenance = @Sendable () async -> Void

    private let configuration: SchedulerConfiguration
    private let store: any EnclaveStore
    private let clock: any WallClock
    private let metrics: EnclaveMetrics
    private let logger: Logger
    private var execute: Executor?
    private var maintenance: Maintenance?
    /// Moves on every wake-up; a worker that found nothing sleeps only if it has not moved since it looked.
    private var generation: UInt64 = 0
    private var idle: [CheckedContinuation<Void, Never>] = []
    private var running: [String: Task<Void, Never>] = [:]
    private var stopping = false
    private var started = false
    private var onShutdown: [@Sendable () async -> Void] = []

    public init(configuration: SchedulerConfiguration, store: any EnclaveStore, clock: any WallClock, metrics: EnclaveMetrics, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
    }

    /// Sets what running a claimed job means (the service that owns the scheduler, once it exists).
    public func setExecutor(_ executor: @escaping Executor) { execute = executor }
    /// Sets what each sweep does besides looking for stranded jobs.
    public func setMaintenance(_ maintenance: @escaping Maintenance) { self.maintenance = maintenance }
    /// Adds something to do as soon as graceful shutdown begins (answering held long-polls).
    public func onGracefulShutdown(_ action: @escaping @Sendable () async -> Void) { onShutdown.append(action) }

    /// Jobs running now in this daemon.
    public var runningCount: Int { running.count }
    /// Whether the workers run and take jobs: started, and not shutting down.
    public var isAccepting: Bool { started && !stopping }

    /// New work may be claimable (a job was approved, a job ended, secrets arrived): idle workers look.
    public func wake() {
        generation &+= 1
        let sleepers = idle
        idle.removeAll()
        for worker in sleepers { worker.resume() }
    }

    public func run() async throws {
        started = true
        let sweeper = Task { await self.sweepLoop() }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<configuration.workers { group.addTask { await self.workLoop() } }
            }
        } onGracefulShutdown: {
            Task { await self.beginShutdown() }
        }
        sweeper.cancel()
        await sweeper.value
    }

    private func workLoop() async {
        while !stopping {
            let seen = generation
            guard let job = await claim() else {
                if generation == seen && !stopping { await withCheckedContinuation { idle.append($0) } }
                continue
            }
            if stopping {
                await requeue(job)
                break
            }
            guard let execute else { continue }
            let task = Task { await execute(job) }
            running[job.id] = task
            await task.value
            running[job.id] = nil
            // A tenant below its cap again may let an idle worker take that tenant's or another's job.
            wake()
        }
    }

    /// The next job, claimed in the store; `nil` when there is none this worker may take.
    private func claim() async -> JobRecord? {
        let fairShare = configuration.fairShare
        do {
            return try await store.claimNextJob(at: clock.now()) { fairShare.choose($0) }
        } catch {
            logger.error("cannot claim a job; retrying", metadata: ["error": "\(error)"])
            try? await Task.sleep(for: .seconds(1))
            return nil
        }
    }

    /// Hands back a job claimed just as shutdown began, so the next start runs it instead of failing it.
    private func requeue(_ job: JobRecord) async {
        let now = clock.now()
        _ = try? await store.transition(job.id, from: [.executing], at: now, event: "job.requeued") {
            $0.status = .approved
            $0.executedAt = nil
        }
    }

    private func sweepLoop() async {
        while !stopping {
            do { try await Task.sleep(for: configuration.sweepInterval) } catch { return }  // cancelled: shutting down
            if stopping { return }
            await sweep()
        }
    }

    /// Looks for approved jobs that an idle worker could have taken for a while: a wake-up was lost.
    func sweep() async {
        if !idle.isEmpty, let states = try? await store.queueState() {
            let threshold = clock.now() - configuration.strandedAfter.milliseconds
            let fairShare = configuration.fairShare
            if let tenant = fairShare.choose(states), let state = states.first(where: { $0.tenantId == tenant }),
               let oldest = state.oldestApprovedAt, oldest < threshold, !idle.isEmpty {
                logger.warning("found approved jobs no worker took; waking the workers", metadata: ["waiting": "\(state.waiting)"])
                metrics.strandedJobsFound(state.waiting)
                wake()
            }
        }
        await maintenance?()
    }

    private func beginShutdown() async {
        stopping = true
        for action in onShutdown { await action() }
        wake()
        logger.info("shutting down", metadata: ["running": "\(running.count)", "grace_seconds": "\(configuration.graceSeconds)"])
        let deadline = ContinuousClock.now + .seconds(configuration.graceSeconds)
        while !running.isEmpty && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for (id, task) in running {
            logger.warning("stopping a running job at shutdown", metadata: ["job": "\(id)"])
            task.cancel()
        }
    }
}

/// How the scheduler runs jobs.
public struct SchedulerConfiguration: Sendable {
    /// Jobs running at once.
    public var workers: Int
    /// Whose job runs next.
    public var fairShare: FairShare
    /// On shutdown, how long running jobs may finish.
    public var graceSeconds: Int
    /// How often the sweep looks for stranded jobs and runs maintenance.
    public var sweepInterval: Duration
    /// How long a job an idle worker could take may wait before it counts as stranded.
    public var strandedAfter: Duration

    public init(workers: Int, fairShare: FairShare, graceSeconds: Int, sweepInterval: Duration = .seconds(5), strandedAfter: Duration = .seconds(10)) {
        self.workers = max(1, workers)
        self.fairShare = fairShare
        self.graceSeconds = graceSeconds
        self.sweepInterval = sweepInterval
        self.strandedAfter = strandedAfter
    }
}

extension Duration {
    /// Whole milliseconds, for comparisons with the store's millisecond times.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

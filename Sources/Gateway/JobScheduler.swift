import Logging
import ServiceLifecycle

/// Runs approved jobs: a bounded queue and a fixed number of workers.
///
/// The database is the source of truth (an approved job is `approved` there); this is the in-memory
/// order in which workers take them. On graceful shutdown no new job starts; running jobs get
/// `graceSeconds` to finish, then are cancelled (their processes killed) and recorded as interrupted.
public actor JobScheduler: Service {
    public typealias Executor = @Sendable (String) async -> Void

    private let workers: Int
    private let limit: Int
    private let graceSeconds: Int
    private let logger: Logger
    private var execute: Executor?
    private var queue: [String] = []
    private var queued: Set<String> = []
    private var idle: [CheckedContinuation<String?, Never>] = []
    private var running: [String: Task<Void, Never>] = [:]
    private var stopping = false
    private var started = false

    public init(workers: Int, queueLimit: Int, graceSeconds: Int, logger: Logger) {
        self.workers = workers
        self.limit = queueLimit
        self.graceSeconds = graceSeconds
        self.logger = logger
    }

    /// Sets what running a job means (the service that owns the scheduler, once it exists).
    public func setExecutor(_ executor: @escaping Executor) { execute = executor }

    /// Jobs waiting for a worker.
    public var queuedCount: Int { queue.count }
    /// Jobs running now.
    public var runningCount: Int { running.count }
    /// Whether another job may be queued.
    public var hasRoom: Bool { queue.count < limit }
    /// Whether the workers run and take jobs: started, and not shutting down.
    public var isAccepting: Bool { started && !stopping }

    /// Queues a job; `false` when the queue is full or the scheduler is stopping.
    @discardableResult
    public func enqueue(_ id: String) -> Bool {
        guard !stopping, queue.count < limit, !queued.contains(id), running[id] == nil else { return false }
        if let worker = idle.popLast() {
            worker.resume(returning: id)
        } else {
            queue.append(id)
            queued.insert(id)
        }
        return true
    }

    /// Queues jobs found approved at start, whatever the limit (they were accepted before the restart).
    public func resume(_ ids: [String]) {
        for id in ids where !queued.contains(id) {
            if let worker = idle.popLast() { worker.resume(returning: id) } else { queue.append(id); queued.insert(id) }
        }
    }

    public func run() async throws {
        started = true
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<workers { group.addTask { await self.workLoop() } }
            }
        } onGracefulShutdown: {
            Task { await self.beginShutdown() }
        }
    }

    private func workLoop() async {
        while let id = await next() {
            guard let execute else { continue }
            let task = Task { await execute(id) }
            running[id] = task
            await task.value
            running[id] = nil
        }
    }

    private func next() async -> String? {
        if stopping { return nil }
        if !queue.isEmpty {
            let id = queue.removeFirst()
            queued.remove(id)
            return id
        }
        return await withCheckedContinuation { idle.append($0) }
    }

    private func beginShutdown() async {
        stopping = true
        for worker in idle { worker.resume(returning: nil) }
        idle.removeAll()
        logger.info("shutting down", metadata: ["running": "\(running.count)", "queued": "\(queue.count)", "grace_seconds": "\(graceSeconds)"])
        let deadline = ContinuousClock.now + .seconds(graceSeconds)
        while !running.isEmpty && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for (id, task) in running {
            logger.warning("stopping a running job at shutdown", metadata: ["job": "\(id)"])
            task.cancel()
        }
    }
}

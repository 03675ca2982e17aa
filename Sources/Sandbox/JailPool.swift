/// Jails prepared before their jobs arrive (``PreparedJail``), so a job pays only for its claim and Deno.
///
/// The pool keeps up to ``JailPoolConfiguration/size`` jails prepared. A job takes one (a hit) or finds
/// none and has one started for it (a miss); each taken jail is replaced in the background once its job
/// ended. A jail runs one job and is never returned. A prepared jail that failed is discarded, and its job
/// runs in a fresh one. A jail nobody took within ``JailPoolConfiguration/idleTimeout`` is retired and not replaced until
/// the next job, so an idle daemon holds no jail processes. ``shutdown()`` retires every jail and waits
/// until their processes, directories and cgroups are gone.
///
/// Booted jails (Deno already started: ``BootShape``) follow the jobs that repeat: when a job's shape was
/// also the shape of one of the ``recentTakes`` jobs before it, the jail that replaces the one it took is
/// booted for that shape, so a skill that runs again finds Deno waiting; otherwise the replacement is
/// unbooted. A job takes a booted jail of its own shape first, else an unbooted one. A repeating job that
/// finds neither retires the oldest booted jail of another shape, so that the pool moves on to the shapes now
/// in use, and runs in a jail started for it. Jobs whose shapes never repeat (an agent varying its hosts on
/// every job) therefore cost what they cost without booting: no Deno is started for a shape nobody takes.
public actor JailPool {
    /// Counts since start, for `/metrics`.
    public struct Statistics: Sendable, Hashable {
        /// Jobs that took a prepared jail.
        public var hits = 0
        /// Of ``hits``, jobs that took a booted one (Deno already started).
        public var bootedHits = 0
        /// Jobs that found none and had one started for them.
        public var misses = 0
        /// Prepared jails that failed before their job and were discarded.
        public var discarded = 0
        /// Jails retired unused (idle timeout, shutdown).
        public var retired = 0
        /// Jails waiting now.
        public var idle = 0

        public init() {}
    }

    private let configuration: JailPoolConfiguration
    private let blueprint: JailBlueprint
    private var waiting: [PreparedJail] = []
    /// What the next jails started should be: the shapes of repeating jobs that took a jail since (`nil`: unbooted).
    private var wanted: [BootShape?] = []
    /// The shapes of the last jobs (``recentTakes`` of them), newest last.
    private var recent: [BootShape?] = []
    /// How many jobs back a shape counts as repeating.
    static let recentTakes = 8
    private var statistics = Statistics()
    private var stopped = false
    /// Jails being retired or discarded, until their processes, directories and cgroups are gone.
    private var retiring: [ObjectIdentifier: Task<Void, Never>] = [:]

    init(configuration: JailPoolConfiguration, blueprint: JailBlueprint) {
        self.configuration = configuration
        self.blueprint = blueprint
    }

    /// The counts so far.
    public var counts: Statistics {
        var counts = statistics
        counts.idle = waiting.count
        return counts
    }

    /// The jails waiting now.
    var waitingJails: [PreparedJail] { waiting }

    /// Waits until every jail waiting now is prepared; `false` if one failed (benchmarks measure warm jails).
    public func awaitPrepared() async -> Bool {
        for jail in waiting where !(await jail.awaitReadiness()) { return false }
        return true
    }

    /// Prepares jails up to the pool's size (at start, and after each job).
    public func fill() {
        retireExpired()
        while !stopped && waiting.count < configuration.size {
            // The newest job's shape first: it is the likeliest to come next.
            let shape = wanted.isEmpty ? nil : wanted.removeLast()
            // A booted jail that cannot start is no reason to start none: the next job tries again, cold.
            guard let jail = (try? PreparedJail.start(blueprint, booting: shape)) ?? (try? PreparedJail.start(blueprint)) else { return }
            waiting.append(jail)
        }
        wanted.removeAll()
    }

    /// A prepared (or still preparing) jail for a job of `shape` (`nil`: the job cannot take a booted one),
    /// or `nil` when none waits. The runner refills the pool (``fill()``) once the job has ended, and the
    /// jail replacing this one is then booted for `shape`: starting Deno beside a running job would slow
    /// that job down (two Denos on the cores, and v1 cgroup creation contending with the job's removal).
    func take(shape: BootShape?) -> PreparedJail? {
        let shape = configuration.boots ? shape : nil
        let repeating = shape != nil && recent.contains(shape)
        recent.append(shape)
        if recent.count > Self.recentTakes { recent.removeFirst() }
        retireExpired()
        // A jail that ended while it waited (killed from outside, or its booted Deno died) is no jail: discard it.
        for jail in waiting where jail.hasEnded || jail.isReady == false {
            waiting.removeAll { $0 === jail }
            discard(jail)
        }
        var index = shape.flatMap { shape in waiting.firstIndex { $0.shape == shape } }
        index = index ?? waiting.firstIndex { $0.shape == nil }
        let jail = index.map { waiting.remove(at: $0) }
        if let jail {
            statistics.hits += 1
            if jail.shape != nil { statistics.bootedHits += 1 }
        } else {
            statistics.misses += 1
            if repeating, let stale = waiting.firstIndex(where: { $0.shape != nil }) {
                statistics.retired += 1
                remove(waiting.remove(at: stale))
            }
        }
        wanted.append(repeating ? shape : nil)
        return jail
    }

    /// Replaces every waiting jail by jails booted for `shape` (`nil`: unbooted), and waits for none of them:
    /// how tests and benchmarks give a job a booted jail without running its skill twice first.
    func prepare(booting shape: BootShape?) {
        for jail in waiting where jail.shape != shape {
            waiting.removeAll { $0 === jail }
            statistics.retired += 1
            remove(jail)
        }
        wanted.removeAll()
        while !stopped && waiting.count < configuration.size {
            guard let jail = try? PreparedJail.start(blueprint, booting: shape) else { return }
            waiting.append(jail)
        }
    }

    /// Counts and removes a prepared jail that failed before its job.
    func discard(_ jail: PreparedJail) {
        statistics.discarded += 1
        remove(jail)
    }

    /// Retires `jail` in the background, remembered until it is gone.
    private func remove(_ jail: PreparedJail) {
        let id = ObjectIdentifier(jail)
        retiring[id] = Task.detached {
            await jail.retire()
            await jail.dispose()
            await self.removed(id)
        }
    }

    private func removed(_ id: ObjectIdentifier) { retiring[id] = nil }

    /// Retires every jail and waits until each one's processes, directory and cgroup are gone.
    /// Jobs already running are not the pool's: their runs end them.
    public func shutdown() async {
        stopped = true
        let jails = waiting
        waiting.removeAll()
        statistics.retired += jails.count
        for jail in jails { remove(jail) }
        for task in retiring.values { await task.value }
    }

    /// Retires jails prepared longer ago than the idle timeout.
    private func retireExpired() {
        let now = ContinuousClock.now
        let expired = waiting.filter { now - $0.startedAt > configuration.idleTimeout }
        guard !expired.isEmpty else { return }
        waiting.removeAll { jail in expired.contains { $0 === jail } }
        statistics.retired += expired.count
        for jail in expired { remove(jail) }
    }

    /// Retires idle jails whose timeout passed, without waiting for a job; the daemon calls it periodically.
    public func sweep() {
        retireExpired()
    }
}

/// How many jails to keep prepared, and for how long.
public struct JailPoolConfiguration: Sendable, Hashable {
    /// Jails kept prepared; 0 turns the pool off (every job starts its own, as `oauth3-enclave run` does).
    public var size: Int
    /// How long a prepared jail may wait for a job before it is retired.
    public var idleTimeout: Duration
    /// Whether jails are booted for the shapes jobs used (``BootShape``); `false` keeps every jail unbooted.
    public var boots: Bool

    public init(size: Int = 0, idleTimeout: Duration = .seconds(300), boots: Bool = true) {
        self.size = max(0, size)
        self.idleTimeout = idleTimeout
        self.boots = boots
    }
}

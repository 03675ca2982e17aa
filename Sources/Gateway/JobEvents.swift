/// Wakes long-polling status requests when a job changes, without polling the database.
///
/// Each job has a change counter. A request reads the counter, then the job; if the job is not final it
/// waits for the counter to move past what it read, so a change between the two reads is never missed.
/// Each tenant may hold a bounded number of long-polls open (they pin a connection each), and on
/// shutdown every held long-poll returns at once, so the server can close without waiting them out.
public actor JobEvents {
    private var versions: [String: UInt64] = [:]
    private var waiters: [String: [Int: CheckedContinuation<Void, Never>]] = [:]
    private var held: [String: Int] = [:]
    private var nextWaiter = 0
    private var closed = false

    public init() {}

    /// The job's change counter.
    public func version(of id: String) -> UInt64 { versions[id] ?? 0 }

    /// Records a change and wakes everyone waiting on the job.
    public func changed(_ id: String) {
        versions[id, default: 0] += 1
        for (_, continuation) in waiters.removeValue(forKey: id) ?? [:] { continuation.resume() }
    }

    /// Long-polls `tenant` holds open now.
    public func heldCount(tenant: String) -> Int { held[tenant] ?? 0 }
    /// Long-polls held open now, all tenants together.
    public var heldTotal: Int { held.values.reduce(0, +) }

    /// Returns when the job's counter passes `version`, after `timeout`, or at shutdown.
    /// - Returns: `false` without waiting when `tenant` already holds `limit` long-polls.
    public func wait(for id: String, tenant: String, limit: Int, after version: UInt64, timeout: Duration) async -> Bool {
        if closed || (versions[id] ?? 0) > version { return true }
        guard (held[tenant] ?? 0) < limit else { return false }
        held[tenant, default: 0] += 1
        defer {
            held[tenant, default: 1] -= 1
            if held[tenant] == 0 { held[tenant] = nil }
        }
        let key = nextWaiter
        nextWaiter += 1
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.expire(id, key)
        }
        await withCheckedContinuation { continuation in
            waiters[id, default: [:]][key] = continuation
        }
        timer.cancel()
        return true
    }

    /// Answers every held long-poll now, and every later one at once: the daemon is shutting down.
    public func close() {
        closed = true
        let all = waiters
        waiters.removeAll()
        for (_, byKey) in all { for (_, continuation) in byKey { continuation.resume() } }
    }

    private func expire(_ id: String, _ key: Int) {
        if let continuation = waiters[id]?.removeValue(forKey: key) { continuation.resume() }
        if waiters[id]?.isEmpty == true { waiters[id] = nil }
    }
}

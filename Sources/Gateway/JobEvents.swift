

/// Wakes long-polling status requests when a job changes, without polling the database.
///
/// Each job has a change counter. A request reads the counter, then the job; if the job is not final it
/// waits for the counter to move past what it read, so a change between the two reads is never missed.
public actor JobEvents {
    private var versions: [String: UInt64] = [:]
    private var waiters: [String: [Int: CheckedContinuation<Void, Never>]] = [:]
    private var nextWaiter = 0

    public init() {}

    /// The job's change counter.
    public func version(of id: String) -> UInt64 { versions[id] ?? 0 }

    /// Records a change and wakes everyone waiting on the job.
    public func changed(_ id: String) {
        versions[id, default: 0] += 1
        for (_, continuation) in waiters.removeValue(forKey: id) ?? [:] { continuation.resume() }
    }

    /// Returns when the job's counter passes `version`, or after `timeout`.
    public func wait(for id: String, after version: UInt64, timeout: Duration) async {
        if (versions[id] ?? 0) > version { return }
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
    }

    private func expire(_ id: String, _ key: Int) {
        if let continuation = waiters[id]?.removeValue(forKey: key) { continuation.resume() }
        if waiters[id]?.isEmpty == true { waiters[id] = nil }
    }
}

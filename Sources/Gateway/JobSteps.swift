import Logging
import Sandbox

/// Where one approved job's time went in the daemon, from its claim by a worker to the long-poll's
/// wake-up; logged with the job's "job finished" line (milliseconds, no job content), which `make bench`
/// reads to print a step breakdown. The submission itself (parse, policy, store) is the HTTP request's
/// own time, which the benchmark's client measures.
struct JobSteps: Sendable {
    /// From approval to a worker's claim.
    var queued: Duration = .zero
    /// Recording `executing` for long-polls.
    var announce: Duration = .zero
    /// Parsing the manifest, unsealing the secrets, decoding the arguments.
    var prepare: Duration = .zero
    /// Inside the runner: jail, Deno, cleanup, classification and redaction.
    var sandbox = RunTimings()
    /// Building the result document and binding it to a quote.
    var attest: Duration = .zero
    /// Storing the final state (one transaction with its audit entry).
    var store: Duration = .zero
    /// Waking the long-polls.
    var wake: Duration = .zero

    /// Runs `body`, adding its duration to the step at `key`.
    mutating func time<T>(_ key: WritableKeyPath<JobSteps, Duration>, _ body: () async throws -> T) async rethrows -> T {
        let started = ContinuousClock.now
        defer { self[keyPath: key] += ContinuousClock.now - started }
        return try await body()
    }

    /// The steps as log metadata, in milliseconds with one decimal.
    var metadata: Logger.Metadata {
        func ms(_ duration: Duration) -> Logger.MetadataValue {
            let (seconds, attoseconds) = duration.components
            let tenths = (seconds * 10_000) + attoseconds / 100_000_000_000_000
            return "\(tenths / 10).\(abs(tenths % 10))"
        }
        return [
            "ms_queued": ms(queued), "ms_announce": ms(announce), "ms_prepare": ms(prepare), "ms_jail": ms(sandbox.jail),
            "ms_run": ms(sandbox.jobRun), "ms_cleanup": ms(sandbox.cleanup), "ms_classify": ms(sandbox.classify),
            "ms_attest": ms(attest), "ms_store": ms(store), "ms_wake": ms(wake), "pooled": "\(sandbox.pooled)", "booted": "\(sandbox.booted)", "deno_cache": "\(sandbox.denoCache.map { $0 ? "hit" : "miss" } ?? "none")",
        ]
    }
}

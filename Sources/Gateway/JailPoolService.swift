import Sandbox
import ServiceLifecycle

/// The runner's pool of prepared jails as a service: fills it at start, retires jails idle past their
/// timeout, and empties it last on shutdown (after the scheduler stopped taking jobs), waiting until no
/// prepared jail's process, directory or cgroup is left.
struct JailPoolService: Service {
    let pool: JailPool
    /// How often idle jails are checked against their timeout.
    let sweepInterval: Duration

    func run() async throws {
        await pool.fill()
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: sweepInterval)
                await pool.sweep()
            }
        }
        await pool.shutdown()
    }
}

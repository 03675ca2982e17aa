import ServiceLifecycle
import Store

/// Replicas sharing one database: wakes this daemon's long-polls and idle workers when another replica
/// changes a job (``EnclaveStore/followJobChanges(_:)``), so a job approved at one replica starts on
/// whichever has a free worker, and a long-poll at one returns when the job ends on another. With a
/// database only this daemon uses it does nothing until shutdown.
struct JobChangeFeed: Service {
    let store: any EnclaveStore
    let events: JobEvents
    let scheduler: JobScheduler

    func run() async throws {
        let feed = Task { [store, events, scheduler] in
            await store.followJobChanges { id in
                await events.changed(id)
                await scheduler.wake()
            }
        }
        try? await gracefulShutdown()
        feed.cancel()
        await feed.value
    }
}

import Sandbox
import ServiceLifecycle

/// The runner's Deno cache writers as a service: on shutdown (after the scheduler, so no job starts a
/// writer any more) it waits until every writer's jail has ended, so shutdown leaves no jail behind.
struct DenoCacheService: Service {
    let cache: DenoCache

    func run() async throws {
        try? await gracefulShutdown()
        await cache.finishWriting()
    }
}

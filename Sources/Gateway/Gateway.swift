import Foundation
import Attestation
import Hummingbird
import HummingbirdCore
import Logging
import OAuth3Wire
import Sandbox
import ServiceLifecycle
import UnixSignals
import SkillManifest
import Store
import Vault

/// Builds the daemon: the store, the vault, the runner, the scheduler and the HTTP routes, wired together.
/// This is the composition root: the only place where a manifest becomes a jail configuration and a
/// policy decision.
public enum Gateway {
    /// Everything `serve` runs: the application, the scheduler, and the job service.
    public struct Parts: Sendable {
        public let application: Application<RouterResponder<GatewayContext>>
        public let service: JobService

        /// The services in the order a `ServiceGroup` must run them. Graceful shutdown goes in reverse:
        /// the scheduler first (no new job starts, held long-polls answer at once, running jobs get their
        /// grace period while status requests are still served), the feed of other replicas' changes, then the HTTP server, which waits only
        /// for requests already in flight, then the Deno cache's writers, and last the pool of prepared jails,
        /// which retires every one.
        public var services: [any Service] {
            let pool: [any Service] = service.runner.pool.map { [JailPoolService(pool: $0, sweepInterval: .seconds(30))] } ?? []
            let feed = JobChangeFeed(store: service.store, events: service.events, scheduler: service.scheduler)
            let cache: [any Service] = service.runner.denoCache.map { [DenoCacheService(cache: $0)] } ?? []
            return pool + cache + [application, feed, service.scheduler]
        }

        /// Runs everything until SIGTERM or SIGINT, then shuts down gracefully.
        public func runService(logger: Logger) async throws {
            let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }

    /// Wires a daemon over already-opened dependencies.
    public static func make(
        configuration: GatewayConfiguration, store: any EnclaveStore, vault: Vault, runner: any JobRunner, attestor: Attestor,
        services: [any Service] = [],
        clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "oauth3-enclave"),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws -> Parts {
        let metrics = EnclaveMetrics()
        let scheduler = JobScheduler(
            configuration: SchedulerConfiguration(
                workers: configuration.workers, fairShare: FairShare(tenantCap: configuration.tenantMaxRunning),
                graceSeconds: configuration.shutdownGraceSeconds, sweepInterval: configuration.sweepInterval,
                strandedAfter: configuration.sweepInterval * 2),
            store: store, clock: clock, metrics: metrics, logger: logger)
        let service = JobService(
            configuration: configuration, store: store, vault: vault, runner: runner, scheduler: scheduler, attestor: attestor,
            metrics: metrics, clock: clock, logger: logger)
        try await service.start()
        let authenticator = await Authenticator(
            store: store, jwtSecret: configuration.jwtSecret, maxTokenLifetimeSeconds: configuration.jwtMaxLifetimeSeconds, clock: clock)
        let router = Router(context: GatewayContext.self)
        router.add(middleware: BodyLimitMiddleware(limit: configuration.maxBodyBytes))
        router.add(middleware: RequestLogMiddleware())
        Routes(
            service: service, authenticator: authenticator,
            health: {
                HealthReport(
                    denoVersion: runner.isolation.denoVersion, userNamespace: runner.isolation.userNamespace,
                    cgroups: runner.isolation.cgroups, vaultKeySource: vault.keySource,
                    workers: configuration.workers, running: await scheduler.runningCount, queued: (try? await store.queuedJobCount()) ?? -1,
                    policySha256: runner.policy.sha256, guestAgent: attestor.agent.name, appID: attestor.info.appID,
                    composeHash: attestor.info.composeHash)
            },
            readiness: Readiness(
                store: store, runner: runner, scheduler: scheduler, agent: attestor.agent, ttl: .seconds(configuration.guestAgentProbeSeconds))
        ).register(on: router)
        // Idle connections make room for new ones a little below the hard limit (ConnectionRegistry).
        let connections = ConnectionRegistry(limit: configuration.maxConnections - max(8, configuration.maxConnections / 16))
        let application = Application(
            router: router,
            server: .http1(configuration: .init(
                additionalChannelHandlers: [connections.handler()], idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "oauth3-enclave",
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
            services: services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                if configuration.publicURLIsDerived { service.links.set("http://\(configuration.host):\(port)") }
                await onServerRunning(port)
            },
            logger: logger)
        return Parts(application: application, service: service)
    }
}

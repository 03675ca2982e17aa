import Foundation
import Attestation
import Hummingbird
import Logging
import OAuth3Wire
import Sandbox
import ServiceLifecycle
import SkillManifest
import Store
import Vault

/// Builds the daemon: the store, the vault, the runner, the scheduler and the HTTP routes, wired together.
/// This is the composition root: the only place where a manifest becomes a jail configuration and a
/// policy decision.
public enum Gateway {
    /// Everything `serve` runs: the application (which also runs the scheduler) and the job service.
    public struct Parts: Sendable {
        public let application: Application<RouterResponder<GatewayContext>>
        public let service: JobService
    }

    /// Wires a daemon over already-opened dependencies.
    public static func make(
        configuration: GatewayConfiguration, store: Store, vault: Vault, runner: SkillRunner, attestor: Attestor,
        services: [any Service] = [],
        clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "oauth3-enclave"),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws -> Parts {
        GatewayContext.bodyLimit.set(configuration.maxBodyBytes)
        let scheduler = JobScheduler(
            workers: configuration.workers, queueLimit: configuration.queueLimit, graceSeconds: configuration.shutdownGraceSeconds, logger: logger)
        let service = JobService(
            configuration: configuration, store: store, vault: vault, runner: runner, scheduler: scheduler, attestor: attestor, clock: clock, logger: logger)
        try await service.start()
        let authenticator = await Authenticator(
            store: store, jwtSecret: configuration.jwtSecret, maxTokenLifetimeSeconds: configuration.jwtMaxLifetimeSeconds, clock: clock)
        let router = Router(context: GatewayContext.self)
        router.add(middleware: LogRequestsMiddleware(.debug))
        Routes(
            service: service, authenticator: authenticator,
            health: {
                HealthReport(
                    denoVersion: runner.denoVersion, userNamespace: runner.host.userNamespace,
                    cgroups: runner.host.cgroups?.version.rawValue ?? "none", vaultKeySource: vault.keySource,
                    workers: configuration.workers, running: await scheduler.runningCount, queued: await scheduler.queuedCount,
                    policySha256: runner.configuration.policy.sha256, guestAgent: attestor.agent.name, appID: attestor.info.appID,
                    composeHash: attestor.info.composeHash)
            },
            readiness: Readiness(
                store: store, runner: runner, scheduler: scheduler, agent: attestor.agent, ttl: .seconds(configuration.guestAgentProbeSeconds))
        ).register(on: router)
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "oauth3-enclave"),
            services: services + [scheduler],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                if configuration.publicURLIsDerived { service.links.set("http://\(configuration.host):\(port)") }
                await onServerRunning(port)
            },
            logger: logger)
        return Parts(application: application, service: service)
    }
}

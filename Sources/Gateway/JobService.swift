import Attestation
import Foundation
import Logging
import OAuth3Wire
import Sandbox
import SkillManifest
import Store
import Vault

/// What the API does, apart from HTTP: accepting jobs, asking and recording approvals, running approved
/// jobs, answering status. The routes translate requests into these calls and their results into replies.
public struct JobService: Sendable {
    public let configuration: GatewayConfiguration
    public let store: Store
    public let vault: Vault
    public let runner: SkillRunner
    public let scheduler: JobScheduler
    public let events: JobEvents
    public let clock: any WallClock
    /// Binds every result to a quote; its keys also open secrets sealed to the enclave.
    public let attestor: Attestor
    /// Counts and durations for `GET /metrics`.
    public let metrics: EnclaveMetrics
    let logger: Logger
    /// The base of links, settled once the server listens (a configured port of 0 is only known then).
    let links: LinkBase

    public init(
        configuration: GatewayConfiguration, store: Store, vault: Vault, runner: SkillRunner, scheduler: JobScheduler,
        attestor: Attestor, events: JobEvents = JobEvents(), metrics: EnclaveMetrics = EnclaveMetrics(), clock: any WallClock = SystemWallClock(),
        logger: Logger
    ) {
        self.attestor = attestor
        self.metrics = metrics
        self.configuration = configuration
        self.store = store
        self.vault = vault
        self.runner = runner
        self.scheduler = scheduler
        self.events = events
        self.clock = clock
        self.logger = logger
        self.links = LinkBase(configuration.publicURL)
    }

    var manifestConfiguration: ManifestConfiguration { runner.configuration.policy.manifest }

    /// Checks the vault key against the database and queues what was approved before a restart.
    /// - Throws: when the database was sealed under another key, naming both key sources.
    public func start() async throws {
        if let stored = try await store.vaultCanary() {
            guard vault.opensCanary(stored.canary) else {
                throw GatewayError.internalError(
                    "this database's secrets were sealed under another vault key (sealed with: \(stored.keySource); this daemon's key: \(vault.keySource)). Refusing to start rather than failing secret by secret: start with the right key, or a new data directory.")
            }
        } else {
            try await store.setVaultCanary(try vault.canary(), keySource: vault.keySource)
        }
        let approved = try await store.recoverAfterRestart(at: clock.now())
        if !approved.isEmpty { logger.info("resuming approved jobs", metadata: ["count": "\(approved.count)"]) }
        await scheduler.setExecutor { id in await self.run(id) }
        await scheduler.resume(approved)
    }

    /// Records a change and wakes long-polls.
    func changed(_ job: JobRecord?) async {
        if let job { await events.changed(job.id) }
    }

    /// The approval link for a job, pointing at the orchestrator's UI when an orchestrator forwarded it.
    func approvalURL(job id: String, token: String, caller: Caller) -> String {
        if let orchestrator = caller.orchestratorURL {
            return "\(orchestrator)/t/\(caller.tenantId)/approve/\(id)?token=\(token)"
        }
        return "\(links.value)/approve/\(id)?token=\(token)"
    }

    func statusURL(job id: String) -> String { "\(links.value)/execute/\(id)/status?wait=true" }

    /// Declared secrets of `manifest` that `tenant` has no value for.
    func missingSecrets(_ manifest: SkillManifest, tenant: String) async throws -> [String] {
        let stored = Set(try await store.secrets(tenant: tenant).map(\.name))
        return manifest.secrets.map(\.rawValue).filter { !stored.contains($0) }
    }
}

import Synchronization

/// The public URL links are built on. Set from the configuration, or from the listening port when the
/// configuration asked for any free port and named no public URL.
final class LinkBase: Sendable {
    private let storage: Mutex<String>
    init(_ value: String) { storage = Mutex(value) }
    var value: String { storage.withLock { $0 } }
    func set(_ value: String) { storage.withLock { $0 = value } }
}

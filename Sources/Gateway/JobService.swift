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
    public let store: any EnclaveStore
    public let vault: Vault
    public let runner: any JobRunner
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
    /// Derives each job's approval token, so a waiting job's status can carry its link again.
    let approvalTokens: ApprovalTokens

    public init(
        configuration: GatewayConfiguration, store: any EnclaveStore, vault: Vault, runner: any JobRunner, scheduler: JobScheduler,
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
        self.approvalTokens = ApprovalTokens(vault: vault)
    }

    var manifestConfiguration: ManifestConfiguration { runner.policy.manifest }

    /// Checks the vault key against the database, ends the jobs a crash interrupted, and hands the
    /// scheduler its work (approved jobs are already queued: the database is the queue).
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
        if case .sealedNow(let entries) = try await store.sealAudit(with: vault.derivedKey(for: "oauth3/audit-head/v1")), entries > 0 {
            logger.warning("the audit log's head was not sealed: sealed now, trusting its entries as they stand", metadata: ["entries": "\(entries)"])
        }
        if case .broken(let seq, let reason) = try await store.auditIntegrity() {
            logger.error("the audit log was altered outside the daemon", metadata: ["entry": "\(seq)", "reason": "\(reason)"])
        }
        try await protectRows()
        let approved = try await store.recoverAfterRestart(at: clock.now())
        if !approved.isEmpty { logger.info("resuming approved jobs", metadata: ["count": "\(approved.count)"]) }
        await scheduler.setExecutor { job in await self.run(job) }
        await scheduler.setMaintenance { await self.maintain() }
        let events = self.events
        await scheduler.onGracefulShutdown { await events.close() }
    }

    /// The sweep's housekeeping: requests nobody answered expire (with their code), and finished jobs
    /// past the retention period lose their code and result, so stored bytes fall again.
    func maintain() async {
        let now = clock.now()
        do {
            let expired = try await store.purgeExpiredRequests(at: now)
            if !expired.isEmpty {
                logger.info("expired unanswered requests", metadata: ["count": "\(expired.count)"])
                metrics.expired(expired.count)
                for id in expired { await events.changed(id) }
            }
            // Replicas: a job whose replica died is recorded interrupted here, by whichever replica sweeps first.
            for id in try await store.interruptExpiredLeases(at: now) { await events.changed(id) }
            let trimmed = try await store.trimFinishedJobs(endedBefore: now - Int64(configuration.resultRetentionSeconds) * 1000, at: now)
            if trimmed > 0 { logger.info("trimmed old results", metadata: ["count": "\(trimmed)"]) }
        } catch {
            logger.error("maintenance failed", metadata: ["error": "\(error)"])
        }
    }

    /// Stores a new job within the limits, atomically, and wakes the workers when it is queued.
    /// - Throws: 429 naming the limit, with `Retry-After`, when a limit refuses it (nothing stored).
    func admit(_ job: JobRecord) async throws {
        do {
            try await store.admit(job, limits: configuration.admissionLimits)
        } catch let refusal as AdmissionRefusal {
            throw refused(refusal)
        }
        if job.status == .approved { await scheduler.wake() }
    }

    /// The 429 for a refused admission.
    func refused(_ refusal: AdmissionRefusal) -> GatewayError {
        metrics.refused(by: refusal.limit.rawValue)
        return switch refusal.limit {
        case .queue: .tooManyRequests("the job queue is full (\(refusal.maximum) waiting); retry later", quota: refusal.limit.rawValue, retryAfter: 5)
        case .activeJobs: .tooManyRequests("quota active_jobs: this tenant already has \(refusal.maximum) jobs queued or running; retry when one ends", quota: refusal.limit.rawValue, retryAfter: 5)
        case .pendingRequests: .tooManyRequests("quota pending_requests: this tenant already has \(refusal.maximum) requests waiting for a person; they expire after \(configuration.approvalTokenLifetimeSeconds / 3600) h", quota: refusal.limit.rawValue, retryAfter: 60)
        case .storedBytes: .tooManyRequests("quota stored_bytes: this tenant's code and results already take \(refusal.maximum) bytes; results are trimmed after \(configuration.resultRetentionSeconds / 86400) days", quota: refusal.limit.rawValue, retryAfter: 3600)
        }
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

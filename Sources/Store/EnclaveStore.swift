import Crypto
import Foundation
import Vault

/// The daemon's persistent state, whichever database holds it: ``Store`` (SQLite, one daemon, the default)
/// or ``PostgresStore`` (PostgreSQL, replicas sharing one database). The gateway holds `any EnclaveStore`
/// and never knows which.
///
/// Every method is one atomic step: checks and the writes they allow happen in one transaction, and every
/// write that audits appends to the one audit chain in that transaction, so two daemons (or two workers)
/// can never both pass a check, both claim a job, or fork the chain.
public protocol EnclaveStore: Sendable {
    // MARK: Tenants
    /// Creates a tenant with an API key hash.
    func createTenant(id: String, name: String?, email: String?, apiKeyHash: Data, at now: Int64) async throws -> TenantRecord
    /// The tenant whose API key hashes to `hash`.
    func tenant(apiKeyHash hash: Data) async throws -> TenantRecord?
    func tenant(id: String) async throws -> TenantRecord?
    /// The tenant an orchestrator's JWT names, created on first sight; throws ``StoreError/tenantHasAPIKey(_:file:line:)``
    /// for an API-key account.
    func ensureTenant(id: String, plan: String, at now: Int64) async throws -> TenantRecord
    /// Counts for `GET /me`.
    func counts(tenant: String) async throws -> (secrets: Int, jobs: Int)

    // MARK: Approvers and consent challenges
    /// The tenant's approvers that are not revoked.
    func approvers(tenant: String) async throws -> [ApproverRecord]
    /// Whether a passkey must decide for this tenant.
    func hasApprovers(tenant: String) async throws -> Bool
    /// Creates a tenant and its first approver together: the browser signup.
    func createTenant(id: String, name: String?, apiKeyHash: Data, approver: ApproverRecord, at now: Int64) async throws
    /// Enrols an approver; with `onlyIfFirst`, only when the tenant has none (atomically). `false` when refused.
    func addApprover(_ approver: ApproverRecord, onlyIfFirst: Bool, at now: Int64) async throws -> Bool
    /// Revokes an approver; `false` when the tenant has no such active approver.
    func revokeApprover(credentialId: String, tenant: String, at now: Int64) async throws -> Bool
    /// Replaces the account's agent key: the old one stops working at once.
    func replaceAPIKey(tenant: String, hash: Data, at now: Int64) async throws
    /// Remembers an approver's signature counter.
    func updateSignCount(credentialId: String, to count: Int64) async throws
    /// Stores a challenge, dropping those already expired at `now`.
    func issueChallenge(_ challenge: ConsentChallengeRecord, at now: Int64) async throws
    /// Takes a challenge for use, once: `nil` when it does not exist, was used, or expired at `now`.
    func consumeChallenge(nonce: String, at now: Int64) async throws -> ConsentChallengeRecord?
    /// Keeps the consents that approved a session's scopes.
    func setSessionConsent(id: String, consentJSON: String) async throws
    /// Sets a session's expiry and run count.
    func limitSession(id: String, expiresAt: Int64?, maxRuns: Int?) async throws

    // MARK: Jobs and the queue
    /// Stores a new job if every limit allows it, atomically; throws ``AdmissionRefusal`` otherwise.
    func admit(_ job: JobRecord, limits: AdmissionLimits) async throws
    /// Bytes of code and results the tenant keeps.
    func storedBytes(tenant: String) async throws -> Int
    /// The queue per tenant: every tenant with a job waiting or running.
    func queueState() async throws -> [TenantQueueState]
    /// Takes the next job to run, atomically (`choose` names the tenant to serve); `nil` when none.
    func claimNextJob(at now: Int64, choose: @escaping @Sendable ([TenantQueueState]) -> String?) async throws -> JobRecord?
    /// Ends requests whose approval link expired before `now`; returns their ids.
    func purgeExpiredRequests(at now: Int64) async throws -> [String]
    /// Drops code and results of final jobs that ended before `cutoff`; returns how many.
    func trimFinishedJobs(endedBefore cutoff: Int64, at now: Int64) async throws -> Int
    /// The job `id` if it belongs to `tenant`.
    func job(id: String, tenant: String) async throws -> JobRecord?
    /// The job `id`, whoever owns it.
    func job(id: String) async throws -> JobRecord?
    /// Changes a job only if its status is one of `from`, atomically, and audits the change; `nil` when it was not.
    func transition(
        _ id: String, from: Set<JobStatus>, at now: Int64, event: String, detail: [String: String],
        _ change: @escaping @Sendable (inout JobRecord) -> Void
    ) async throws -> JobRecord?
    /// How many jobs wait for a worker.
    func queuedJobCount() async throws -> Int
    /// At start: jobs this daemon (or, with replicas, a replica that is gone) was running become `failed`
    /// (`interrupted`), never re-run. Returns the approved jobs' ids, oldest first.
    func recoverAfterRestart(at now: Int64) async throws -> [String]
    /// The tenant's executions, newest first.
    func history(tenant: String, limit: Int) async throws -> [JobRecord]
    /// The tenant's jobs waiting for secret values.
    func jobsAwaitingSecrets(tenant: String) async throws -> [JobRecord]

    // MARK: Trusted code
    /// Remembers that `tenant` trusts the code with this hash (replacing an earlier trust).
    func trust(codeSHA256: String, tenant: String, at now: Int64, consentJSON: String?, expiresAt: Int64?, maxRuns: Int?) async throws
    /// The tenant's trust in this code, when it is still in force at `now`.
    func trustedCode(codeSHA256: String, tenant: String, at now: Int64) async throws -> TrustedCodeRecord?
    /// The tenant's trusted code, newest first.
    func trustedCode(tenant: String) async throws -> [TrustedCodeRecord]
    /// Stops trusting the code; `false` when the tenant did not trust it.
    func untrust(codeSHA256: String, tenant: String, at now: Int64) async throws -> Bool
    /// Counts one run approved by trusted code.
    func recordTrustedUse(codeSHA256: String, tenant: String) async throws

    // MARK: Secrets and the vault canary
    /// Stores `sealed` as the secret `name` of `tenant`, replacing any previous value and binding.
    func putSecret(_ sealed: SealedSecret, name: String, tenant: String, binding: String?, at now: Int64) async throws
    /// Names and dates of the tenant's secrets.
    func secrets(tenant: String) async throws -> [SecretRecord]
    /// The sealed values of the named secrets that exist, each with its binding.
    func sealedSecrets(tenant: String, names: [String]) async throws -> [String: (sealed: SealedSecret, binding: String?)]
    /// Deletes a secret; `false` if there was none.
    func deleteSecret(name: String, tenant: String, at now: Int64) async throws -> Bool
    /// The vault canary stored with this database, if any.
    func vaultCanary() async throws -> (canary: SealedSecret, keySource: String)?
    /// Records the vault canary of a new database.
    func setVaultCanary(_ canary: SealedSecret, keySource: String) async throws

    // MARK: Sessions
    func session(id: String, tenant: String) async throws -> SessionRecord?
    /// The tenant's sessions, newest first.
    func sessions(tenant: String) async throws -> [SessionRecord]
    /// Creates the session, or replaces the policy of an existing one of the same tenant.
    func saveSession(id: String, tenant: String, policyJSON: String, at now: Int64) async throws
    /// Whether a session id is taken (ids are global).
    func sessionExists(id: String) async throws -> Bool
    /// Stores a scope request reserving the new session `id` for its tenant, atomically; `false` when the id is another tenant's.
    func admitScope(_ job: JobRecord, reservingSession id: String, limits: AdmissionLimits) async throws -> Bool
    /// Counts one auto-approved run.
    func recordSessionUse(id: String, at now: Int64) async throws
    /// Revokes a session; `false` if the tenant has no such session.
    func revokeSession(id: String, tenant: String, at now: Int64) async throws -> Bool

    // MARK: The audit log
    /// The audit entries of a job, in order.
    func audit(job: String) async throws -> [AuditRecord]
    /// Appends an audit entry on its own.
    func appendAudit(tenant: String?, job: String?, event: String, detail: [String: String], at: Int64) async throws
    /// From now on, seals the audit log's head with `key`, and seals the current head if it never was.
    func sealAudit(with key: SymmetricKey) async throws -> AuditSealing
    /// Checks the whole chain against itself and its recorded head (and the head's seal once keyed).
    func auditIntegrity() async throws -> AuditIntegrity
    /// The audit log's recorded head (its last entry's number and chain hash), `nil` while the log is empty.
    func auditHead() async throws -> (seq: Int64, hash: String)?

    // MARK: Row protection (the database is not trusted)
    /// From now on, seals and authenticates the rows a decision depends on with `key`; the first time,
    /// converts the rows written before (see `Store+Integrity.swift`).
    func protectRows(with key: SymmetricKey, at now: Int64) async throws -> RowConversion
    /// Tells `observer` of each row refused for its integrity, the first time this daemon finds it.
    func onIntegrityViolation(_ observer: @escaping @Sendable (IntegrityViolation) -> Void)

    // MARK: Replicas
    /// Jobs whose replica stopped renewing its lease become `failed` (`interrupted`), each once, never re-run;
    /// returns their ids. The SQLite store has one daemon and no leases: ``recoverAfterRestart(at:)`` covers it.
    func interruptExpiredLeases(at now: Int64) async throws -> [String]
    /// Calls `onChange` with the id of each job another daemon sharing the database changes, until the
    /// task is cancelled. Returns at once for a database only this daemon uses.
    func followJobChanges(_ onChange: @escaping @Sendable (String) async -> Void) async

    // MARK: Health
    /// One round trip to the database: it is reachable and answers.
    func ping() async throws
}

extension EnclaveStore {
    /// Trusts code with no consent, expiry or run limit.
    public func trust(codeSHA256: String, tenant: String, at now: Int64) async throws {
        try await trust(codeSHA256: codeSHA256, tenant: tenant, at: now, consentJSON: nil, expiresAt: nil, maxRuns: nil)
    }

    /// Stores an unbound secret.
    public func putSecret(_ sealed: SealedSecret, name: String, tenant: String, at now: Int64) async throws {
        try await putSecret(sealed, name: name, tenant: tenant, binding: nil, at: now)
    }

    /// Changes a job with no extra audit detail.
    public func transition(
        _ id: String, from: Set<JobStatus>, at now: Int64, event: String, _ change: @escaping @Sendable (inout JobRecord) -> Void
    ) async throws -> JobRecord? {
        try await transition(id, from: from, at: now, event: event, detail: [:], change)
    }

    /// The sequence number where ``auditIntegrity()`` finds the log broken, or `nil` if it is intact.
    public func firstBrokenAuditEntry() async throws -> Int64? {
        if case .broken(let seq, _) = try await auditIntegrity() { return seq }
        return nil
    }
}

/// The SQLite store (``Store``) is one implementation; its methods are in the `Store+*.swift` files.
/// One daemon owns the file, so there are no leases and no other daemon's changes to follow.
extension Store: EnclaveStore {
    public func interruptExpiredLeases(at now: Int64) async throws -> [String] { [] }
    public func followJobChanges(_ onChange: @escaping @Sendable (String) async -> Void) async {}
}

import Crypto
import Foundation
import Store
import Testing
import Vault

/// The store's atomic operations, the same expectations for SQLite and PostgreSQL: whatever the database,
/// concurrent callers never overshoot a quota, never take one job twice, never both win a transition.
@Suite("The store's queue and accounts, on SQLite and PostgreSQL")
struct QueueBehaviourTests {
    static let roomy = AdmissionLimits(queuedJobs: 100, pendingRequests: 100, activeJobs: 100, storedBytes: 1 << 20)

    static func job(_ id: String, tenant: String = "t1", status: JobStatus = .approved, code: String = "export default 1", at: Int64 = 10) -> JobRecord {
        var job = JobRecord(
            id: id, tenantId: tenant, kind: "execute", skillId: nil, code: code, codeSHA256: "sha-\(id)", argsJSON: "{}", scopeJSON: nil,
            sessionId: nil, status: status, tokenHash: Data([0x00, 0xff, UInt8(id.count)]), tokenExpiresAt: 1000, createdAt: at)
        if status == .approved { job.approvedAt = at }
        return job
    }

    static func refused(_ error: any Error, by limit: AdmissionRefusal.Limit, maximum: Int) -> Bool {
        guard let refusal = error as? AdmissionRefusal else { return false }
        return refusal.limit == limit && refusal.maximum == maximum
    }

    static func tenants(_ store: any EnclaveStore, _ ids: String...) async throws {
        for id in ids { _ = try await store.ensureTenant(id: id, plan: "free", at: 1) }
    }

    @Test("Concurrent admissions never overshoot the queue limit; each limit refuses by its name", arguments: StoreBackend.allCases)
    func admission(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.tenants(store, "t1", "t2")
            let limits = AdmissionLimits(queuedJobs: 3, pendingRequests: 1, activeJobs: 100, storedBytes: 1 << 20)
            let admitted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        do { try await store.admit(Self.job("exec_\(index)"), limits: limits); return true } catch is AdmissionRefusal { return false }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(admitted == 3)
            #expect(try await store.queuedJobCount() == 3)
            await #expect { try await store.admit(Self.job("exec_q", tenant: "t2"), limits: limits) } throws: { Self.refused($0, by: .queue, maximum: 3) }
            try await store.admit(Self.job("exec_p1", status: .pending), limits: limits)
            await #expect { try await store.admit(Self.job("exec_p2", status: .pending), limits: limits) } throws: { Self.refused($0, by: .pendingRequests, maximum: 1) }
            let active = AdmissionLimits(queuedJobs: 100, pendingRequests: 100, activeJobs: 3, storedBytes: 1 << 20)
            await #expect { try await store.admit(Self.job("exec_a"), limits: active) } throws: { Self.refused($0, by: .activeJobs, maximum: 3) }
            // Stored bytes: the code of every job of the tenant, counted in bytes (UTF-8), not characters.
            let stored = try await store.storedBytes(tenant: "t1")
            #expect(stored == 4 * "export default 1".utf8.count)
            let tight = AdmissionLimits(queuedJobs: 100, pendingRequests: 100, activeJobs: 100, storedBytes: stored + 2)
            await #expect { try await store.admit(Self.job("exec_b", tenant: "t1", code: "éé"), limits: tight) } throws: { Self.refused($0, by: .storedBytes, maximum: stored + 2) }
            #expect(try await store.job(id: "exec_b") == nil, "nothing stored when refused")
            let created = try await store.audit(job: "exec_p1").map(\.event)
            #expect(created == ["job.created"])
        }
    }

    @Test("Concurrent claims take each approved job once, oldest first, and record it started", arguments: StoreBackend.allCases)
    func claims(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.tenants(store, "t1")
            for (index, at) in [30, 10, 20].enumerated() { try await store.admit(Self.job("exec_\(index)", at: Int64(at)), limits: Self.roomy) }
            let claimed = try await withThrowingTaskGroup(of: JobRecord?.self) { group in
                for _ in 0..<6 { group.addTask { try await store.claimNextJob(at: 100) { $0.first?.tenantId } } }
                return try await group.reduce(into: [JobRecord]()) { if let job = $1 { $0.append(job) } }
            }
            #expect(claimed.map(\.id).sorted() == ["exec_0", "exec_1", "exec_2"])
            #expect(claimed.allSatisfy { $0.status == .executing && $0.executedAt == 100 })
            for id in ["exec_0", "exec_1", "exec_2"] {
                #expect(try await store.job(id: id)?.status == .executing)
                #expect(try await store.audit(job: id).map(\.event) == ["job.created", "job.started"])
            }
            // One at a time, the oldest approval goes first.
            try await store.admit(Self.job("exec_late", at: 50), limits: Self.roomy)
            try await store.admit(Self.job("exec_early", at: 40), limits: Self.roomy)
            let states = try await store.queueState()
            #expect(states == [TenantQueueState(tenantId: "t1", waiting: 2, oldestApprovedAt: 40, running: 3, lastStartedAt: 100)])
            #expect(try await store.claimNextJob(at: 101) { $0.first?.tenantId }?.id == "exec_early")
            #expect(try await store.claimNextJob(at: 102) { _ in nil } == nil, "nobody named: nothing claimed")
            #expect(try await store.job(id: "exec_late")?.status == .approved)
        }
    }

    @Test("A transition happens only from the statuses named, once among concurrent callers", arguments: StoreBackend.allCases)
    func transitions(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.tenants(store, "t1", "t2")
            try await store.admit(Self.job("exec_1", status: .pending), limits: Self.roomy)
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<5 {
                    group.addTask {
                        try await store.transition("exec_1", from: [.pending], at: 20, event: "job.approved", detail: ["by": "caller-\(index)"]) {
                            $0.status = .approved
                            $0.approvedAt = 20
                            $0.approvedBy = "token"
                        } != nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            let job = try #require(try await store.job(id: "exec_1", tenant: "t1"))
            #expect(job.status == .approved && job.approvedAt == 20 && job.updatedAt == 20 && job.approvedBy == "token")
            #expect(job.tokenHash == Data([0x00, 0xff, 6]) && job.code == "export default 1")
            #expect(try await store.job(id: "exec_1", tenant: "t2") == nil, "another tenant's job is not found")
            #expect(try await store.transition("exec_1", from: [.pending], at: 21, event: "job.denied") { $0.status = .denied } == nil)
            #expect(try await store.audit(job: "exec_1").map(\.event) == ["job.created", "job.approved"])
            #expect(try await store.auditIntegrity() == .intact(entries: 4))
        }
    }

    @Test("Unanswered requests expire with their code; old results are trimmed; history is newest first", arguments: StoreBackend.allCases)
    func expiryAndTrim(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.tenants(store, "t1")
            try await store.admit(Self.job("exec_old", status: .pending, at: 1), limits: Self.roomy)
            var fresh = Self.job("exec_new", status: .pending, at: 2)
            fresh.tokenExpiresAt = 5000
            try await store.admit(fresh, limits: Self.roomy)
            #expect(try await store.purgeExpiredRequests(at: 1000) == ["exec_old"])
            let expired = try #require(try await store.job(id: "exec_old"))
            #expect(expired.status == .failed && expired.outcome == "expired" && expired.code == nil && expired.codeSHA256 == "sha-exec_old")
            #expect(try await store.purgeExpiredRequests(at: 1001) == [])
            #expect(try await store.trimFinishedJobs(endedBefore: 999, at: 1002) == 0)
            _ = try await store.transition("exec_new", from: [.pending], at: 1003, event: "job.denied") {
                $0.status = .denied
                $0.completedAt = 1003
                $0.resultJSON = "{}"
            }
            #expect(try await store.trimFinishedJobs(endedBefore: 2000, at: 2001) == 1)
            #expect(try await store.job(id: "exec_new")?.resultJSON == nil)
            #expect(try await store.storedBytes(tenant: "t1") == 0)
            #expect(try await store.history(tenant: "t1", limit: 10).map(\.id) == ["exec_new", "exec_old"])
            #expect(try await store.history(tenant: "t1", limit: 1).map(\.id) == ["exec_new"])
        }
    }

    @Test("Secrets keep only sealed bytes and their binding; the vault canary round-trips", arguments: StoreBackend.allCases)
    func secrets(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.tenants(store, "t1")
            let vault = Vault(key: SymmetricKey(size: .bits256))
            let binding = #"{"hosts":["api.example:443"],"placement":"header"}"#
            try await store.putSecret(try vault.seal("v1", name: "A", tenant: "t1"), name: "A", tenant: "t1", at: 5)
            try await store.putSecret(try vault.seal("v2", name: "A", tenant: "t1", binding: binding), name: "A", tenant: "t1", binding: binding, at: 6)
            try await store.putSecret(try vault.seal("b", name: "B", tenant: "t1"), name: "B", tenant: "t1", at: 7)
            let listed = try await store.secrets(tenant: "t1")
            #expect(listed.map(\.name) == ["A", "B"] && listed[0].createdAt == 5 && listed[0].updatedAt == 6 && listed[0].binding == binding)
            let sealed = try await store.sealedSecrets(tenant: "t1", names: ["A", "C"])
            #expect(Array(sealed.keys) == ["A"])
            let a = try #require(sealed["A"])
            #expect(try vault.open(a.sealed, name: "A", tenant: "t1", binding: a.binding) == "v2")
            #expect(try await store.deleteSecret(name: "B", tenant: "t1", at: 8))
            #expect(try await store.deleteSecret(name: "B", tenant: "t1", at: 9) == false)
            #expect(try await store.counts(tenant: "t1") == (secrets: 1, jobs: 0))
            #expect(try await store.vaultCanary() == nil)
            let canary = try vault.canary()
            try await store.setVaultCanary(canary, keySource: "test")
            let stored = try #require(try await store.vaultCanary())
            #expect(stored.keySource == "test" && vault.opensCanary(stored.canary))
        }
    }

    @Test("Session ids are global: a reservation or a session of another tenant refuses; revocation and use are recorded", arguments: StoreBackend.allCases)
    func sessions(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.tenants(store, "t1", "t2")
            var scope = Self.job("scope_1", status: .pendingScope)
            scope.kind = "scope"
            #expect(try await store.admitScope(scope, reservingSession: "s1", limits: Self.roomy))
            var rival = Self.job("scope_2", tenant: "t2", status: .pendingScope)
            rival.kind = "scope"
            #expect(try await store.admitScope(rival, reservingSession: "s1", limits: Self.roomy) == false)
            #expect(try await store.job(id: "scope_2") == nil)
            await #expect(throws: StoreError.sessionOfAnotherTenant("s1")) { try await store.saveSession(id: "s1", tenant: "t2", policyJSON: "{}", at: 3) }
            try await store.saveSession(id: "s1", tenant: "t1", policyJSON: #"{"v":1}"#, at: 3)
            try await store.saveSession(id: "s1", tenant: "t1", policyJSON: #"{"v":2}"#, at: 4)
            #expect(try await store.sessionExists(id: "s1"))
            try await store.limitSession(id: "s1", expiresAt: 99, maxRuns: 2)
            try await store.recordSessionUse(id: "s1", at: 5)
            try await store.setSessionConsent(id: "s1", consentJSON: "[]")
            let session = try #require(try await store.session(id: "s1", tenant: "t1"))
            #expect(session.policyJSON == #"{"v":2}"# && session.createdAt == 3 && session.lastActivity == 5 && session.runs == 1)
            #expect(session.expiresAt == 99 && session.maxRuns == 2 && session.consentJSON == "[]" && session.revokedAt == nil)
            #expect(try await store.session(id: "s1", tenant: "t2") == nil)
            #expect(try await store.revokeSession(id: "s1", tenant: "t1", at: 6))
            #expect(try await store.revokeSession(id: "s1", tenant: "t2", at: 6) == false)
            #expect(try await store.sessions(tenant: "t1").map(\.revokedAt) == [6])
        }
    }

    @Test("Trusted code is in force until it expires or its runs are used; trusting again resets it", arguments: StoreBackend.allCases)
    func trustedCode(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.tenants(store, "t1")
            try await store.trust(codeSHA256: "abc", tenant: "t1", at: 1, consentJSON: "{}", expiresAt: 100, maxRuns: 1)
            #expect(try await store.trustedCode(codeSHA256: "abc", tenant: "t1", at: 50)?.consentJSON == "{}")
            #expect(try await store.trustedCode(codeSHA256: "abc", tenant: "t1", at: 100) == nil, "expired")
            try await store.recordTrustedUse(codeSHA256: "abc", tenant: "t1")
            #expect(try await store.trustedCode(codeSHA256: "abc", tenant: "t1", at: 50) == nil, "its one run is used")
            try await store.trust(codeSHA256: "abc", tenant: "t1", at: 2)
            let again = try #require(try await store.trustedCode(codeSHA256: "abc", tenant: "t1", at: 500))
            #expect(again.runs == 0 && again.maxRuns == nil && again.expiresAt == nil && again.createdAt == 2)
            #expect(try await store.trustedCode(tenant: "t1").count == 1)
            #expect(try await store.untrust(codeSHA256: "abc", tenant: "t1", at: 3))
            #expect(try await store.untrust(codeSHA256: "abc", tenant: "t1", at: 4) == false)
        }
    }

    @Test("Accounts: API-key lookups, the agent key replaced, the audit chain intact after everything", arguments: StoreBackend.allCases)
    func accounts(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let key = Data(SHA256.hash(data: Data("oauth3_k1".utf8)))
            let approver = ApproverRecord(credentialId: "cred", tenantId: "tenant_x", name: "A", publicKey: Data([9, 0, 9]), algorithm: -8, signCount: 0, createdAt: 1)
            try await store.createTenant(id: "tenant_x", name: "X", apiKeyHash: key, approver: approver, at: 1)
            #expect(try await store.tenant(apiKeyHash: key)?.id == "tenant_x")
            let next = Data(SHA256.hash(data: Data("oauth3_k2".utf8)))
            try await store.replaceAPIKey(tenant: "tenant_x", hash: next, at: 2)
            #expect(try await store.tenant(apiKeyHash: key) == nil)
            #expect(try await store.tenant(id: "tenant_x")?.apiKeyHash == next)
            try await store.updateSignCount(credentialId: "cred", to: 7)
            #expect(try await store.approvers(tenant: "tenant_x") == [ApproverRecord(credentialId: "cred", tenantId: "tenant_x", name: "A", publicKey: Data([9, 0, 9]), algorithm: -8, signCount: 7, createdAt: 1)])
            try await store.ping()
            #expect(try await store.sealAudit(with: SymmetricKey(size: .bits256)) == .sealedNow(entries: 2))
            try await store.appendAudit(tenant: nil, job: nil, event: "e", detail: ["k": "v"], at: 3)
            #expect(try await store.auditIntegrity() == .intact(entries: 3))
        }
    }
}

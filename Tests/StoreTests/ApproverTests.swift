import Crypto
import Foundation
import Store
import Testing

@Suite("Approvers and consent challenges")
struct ApproverTests {
    func approver(_ id: String, tenant: String = "tenant_a") -> ApproverRecord {
        ApproverRecord(credentialId: id, tenantId: tenant, name: "Alice", publicKey: Data([1, 2, 3]), algorithm: -7, signCount: 0, createdAt: 1)
    }

    @Test("A claim succeeds only while the account has no approver; two claims cannot both win", arguments: StoreBackend.allCases)
    func claimOnce(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            _ = try await store.createTenant(id: "tenant_a", name: "A", email: nil, apiKeyHash: Data(SHA256.hash(data: Data("k".utf8))), at: 1)
            async let first = store.addApprover(approver("cred-1"), onlyIfFirst: true, at: 2)
            async let second = store.addApprover(approver("cred-2"), onlyIfFirst: true, at: 2)
            let outcomes = try await [first, second]
            #expect(outcomes.filter { $0 }.count == 1)
            let count = try await store.approvers(tenant: "tenant_a").count
            let has = try await store.hasApprovers(tenant: "tenant_a")
            #expect(count == 1 && has)
            // An approver-allowed enrolment adds; a revoked approver no longer counts.
            #expect(try await store.addApprover(approver("cred-3"), onlyIfFirst: false, at: 3))
            let credential = try #require(try await store.approvers(tenant: "tenant_a").first?.credentialId)
            #expect(try await store.revokeApprover(credentialId: credential, tenant: "tenant_a", at: 4))
            let again = try await store.revokeApprover(credentialId: credential, tenant: "tenant_a", at: 5)
            #expect(!again)
            #expect(try await store.approvers(tenant: "tenant_a").map(\.credentialId) == ["cred-3"])
        }
    }

    @Test("A challenge is taken once, and never after it expires", arguments: StoreBackend.allCases)
    func singleUse(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.issueChallenge(ConsentChallengeRecord(nonce: "n1", tenantId: nil, subject: "exec_1", statementJSON: "{}", expiresAt: 100), at: 0)
            try await store.issueChallenge(ConsentChallengeRecord(nonce: "n2", tenantId: nil, subject: "exec_1", statementJSON: "{}", expiresAt: 100), at: 0)
            #expect(try await store.consumeChallenge(nonce: "n1", at: 50)?.subject == "exec_1")
            #expect(try await store.consumeChallenge(nonce: "n1", at: 51) == nil)
            #expect(try await store.consumeChallenge(nonce: "n2", at: 100) == nil)
            #expect(try await store.consumeChallenge(nonce: "unknown", at: 1) == nil)
            // Issuing another after they expired drops them: the table does not grow with unanswered challenges.
            try await store.issueChallenge(ConsentChallengeRecord(nonce: "n3", tenantId: nil, subject: "exec_2", statementJSON: "{}", expiresAt: 300), at: 200)
            try await store.issueChallenge(ConsentChallengeRecord(nonce: "n2b", tenantId: nil, subject: "exec_2", statementJSON: "{}", expiresAt: 90), at: 0)
            #expect(try await store.consumeChallenge(nonce: "n3", at: 250)?.subject == "exec_2")
        }
    }
}

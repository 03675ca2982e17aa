import Crypto
import Foundation
import Store
import Testing

@Suite("Tenants: API-key accounts and JWT tenants live apart")
struct TenantTests {
    @Test("ensureTenant makes a JWT tenant on first sight and follows its plan", arguments: StoreBackend.allCases)
    func jwtTenant(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await store.ensureTenant(id: "orch-1", plan: "free", at: 1)
            #expect(first.apiKeyHash == nil && first.plan == "free")
            let again = try await store.ensureTenant(id: "orch-1", plan: "pro", at: 2)
            #expect(again.plan == "pro" && again.createdAt == 1)
        }
    }

    @Test("ensureTenant refuses an id that holds an API key, and leaves that account as it was", arguments: StoreBackend.allCases)
    func refusesAPIKeyAccount(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let hash = Data(SHA256.hash(data: Data("oauth3_key".utf8)))
            _ = try await store.createTenant(id: "acme", name: "Acme", email: nil, apiKeyHash: hash, at: 1)
            await #expect(throws: StoreError.tenantHasAPIKey("acme")) {
                try await store.ensureTenant(id: "acme", plan: "enterprise", at: 2)
            }
            let account = try #require(try await store.tenant(id: "acme"))
            #expect(account.plan == "free" && account.apiKeyHash == hash)
            do {
                _ = try await store.ensureTenant(id: "acme", plan: "pro", at: 3)
            } catch let error as StoreError {
                #expect(error.message == "tenant acme belongs to an API-key account")
            }
        }
    }
}

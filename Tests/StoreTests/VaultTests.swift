import Crypto
import Foundation
import TestSupport
import Testing
import Vault

@Suite("Vault")
struct VaultTests {
    let vault = Vault(key: SymmetricKey(size: .bits256))

    @Test("Seal and open round-trip; the tenant and name are bound, another key cannot open")
    func binding() throws {
        let sealed = try vault.seal("ghp_123", name: "GH_TOKEN", tenant: "t1")
        #expect(try vault.open(sealed, name: "GH_TOKEN", tenant: "t1") == "ghp_123")
        #expect(sealed.combined.range(of: Data("ghp_123".utf8)) == nil)
        #expect(throws: VaultError.self) { try vault.open(sealed, name: "GH_TOKEN", tenant: "t2") }
        #expect(throws: VaultError.self) { try vault.open(sealed, name: "OTHER", tenant: "t1") }
        #expect(throws: VaultError.self) { try Vault(key: SymmetricKey(size: .bits256)).open(sealed, name: "GH_TOKEN", tenant: "t1") }
        var tampered = sealed.combined
        tampered[tampered.count - 1] ^= 1
        #expect(throws: VaultError.self) { try vault.open(SealedSecret(stored: tampered), name: "GH_TOKEN", tenant: "t1") }
        #expect(try vault.seal("ghp_123", name: "GH_TOKEN", tenant: "t1") != sealed, "a fresh nonce each time")
    }

    @Test("A bound secret opens only with the binding it was sealed with: rebinding or unbinding it in the database fails")
    func hostBinding() throws {
        let binding = #"{"hosts":["api.github.com:443"],"placement":"header"}"#
        let sealed = try vault.seal("ghp_bound", name: "GH_TOKEN", tenant: "t1", binding: binding)
        #expect(try vault.open(sealed, name: "GH_TOKEN", tenant: "t1", binding: binding) == "ghp_bound")
        #expect(throws: VaultError.self) { try vault.open(sealed, name: "GH_TOKEN", tenant: "t1") }
        #expect(throws: VaultError.self) {
            try vault.open(sealed, name: "GH_TOKEN", tenant: "t1", binding: #"{"hosts":["evil.example:443"],"placement":"header"}"#)
        }
        let unbound = try vault.seal("ghp_env", name: "GH_TOKEN", tenant: "t1")
        #expect(throws: VaultError.self) { try vault.open(unbound, name: "GH_TOKEN", tenant: "t1", binding: binding) }
    }

    @Test("The canary tells a vault's own key from another")
    func canary() throws {
        let canary = try vault.canary()
        #expect(vault.opensCanary(canary))
        #expect(!Vault(key: SymmetricKey(size: .bits256)).opensCanary(canary))
    }

    @Test("The key file is created 0600 with 32 bytes, reused, and refused when others can read it or it is the wrong size")
    func keyFile() async throws {
        let path = Fixture.workRoot() + "/vault.key"
        let provider = KeyFileProvider(path: path)
        let first = try await provider.vaultKey()
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o777 } == 0o600 && (attributes[.size] as? Int) == 32)
        #expect(try await provider.vaultKey() == first)
        chmod(path, 0o644)
        await #expect { try await provider.vaultKey() } throws: { "\($0)".contains("readable by others") }
        chmod(path, 0o600)
        try Data(repeating: 1, count: 16).write(to: URL(fileURLWithPath: path))
        await #expect { try await provider.vaultKey() } throws: { "\($0)".contains("not a 32-byte key") }
    }
}

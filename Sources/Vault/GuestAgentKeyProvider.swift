import Attestation
import Crypto

/// The vault key from the TEE: the guest agent's `GetKey` for a fixed path, stable for this application
/// under the dstack KMS, so a database copied out of the enclave is useless elsewhere.
public struct GuestAgentKeyProvider: KeyProvider {
    public static let path = "oauth3/vault/v1"
    let agent: any GuestAgent
    public var name: String { "guest-agent-getkey(\(agent.name))" }

    public init(agent: any GuestAgent) { self.agent = agent }

    public func vaultKey() async throws(VaultError) -> SymmetricKey {
        do {
            return SymmetricKey(data: Array(try await agent.key(path: Self.path, purpose: "vault").prefix(32)))
        } catch {
            throw .keyProvider("the guest agent could not derive the vault key: \(error)")
        }
    }
}

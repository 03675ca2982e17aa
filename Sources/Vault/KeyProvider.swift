import Crypto

/// Where the vault's key comes from. The development implementation reads a key file; the attestation
/// issue adds the TEE's `GetKey`, so a copied database is useless outside the enclave.
public protocol KeyProvider: Sendable {
    /// A short name for logs and `/healthz` (never the key).
    var name: String { get }
    /// The 256-bit key that seals every secret.
    func vaultKey() async throws(VaultError) -> SymmetricKey
}

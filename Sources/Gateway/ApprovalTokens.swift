import Crypto
import DCAPVerifier
import Foundation
import Vault

/// Approval tokens derived from the job's id under a key sealed to the enclave, so the enclave can show
/// a waiting job's approval link again (in its polled status) without keeping the token anywhere.
///
/// The store keeps only the token's SHA-256, as before: whoever reads the database (outside the TEE, an
/// operator) learns neither the token nor the key, so cannot approve. The token is HMAC-SHA256 over the
/// job id with a key HKDF-derived from the vault key (``Vault/derivedKey(for:)``); without that key, a
/// token is as unguessable as 32 random bytes. Jobs stored before tokens were derived keep their random
/// token, which nothing can recompute: their status simply carries no link (``matches(_:job:)`` says so).
struct ApprovalTokens: Sendable {
    private let key: SymmetricKey

    init(vault: Vault) {
        key = vault.derivedKey(for: "oauth3/approval-token/v1")
    }

    /// The token for `job`: 32 bytes, hex, like every approval token.
    func token(for job: String) -> String {
        Array(HMAC<SHA256>.authenticationCode(for: Data(job.utf8), using: key)).hexString
    }

    /// Whether `job`'s stored hash is that of its derived token.
    func matches(_ tokenHash: Data, job: String) -> Bool {
        Identifiers.equalDigests(Identifiers.sha256(token(for: job)), tokenHash)
    }
}

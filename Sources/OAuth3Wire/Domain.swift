/// Every domain-separation string the enclave signs, quotes or seals under, in one place, so a hash made for
/// one purpose can never be replayed as another and an auditor finds them all here.
///
/// Each is used as `UTF-8(domain) ‖ 0x00 ‖ payload` (see ``Domain/separated(_:_:)``).
public enum Domain {
    /// A result's signature and its quote's report_data: payload is SHA-256 of the canonical result.
    public static let result = "oauth3-enclave/result/v1"
    /// The quote taken at start over the enclave's two public keys (Ed25519 ‖ X25519).
    public static let keys = "oauth3-enclave/keys/v1"
    /// A fresh quote over the public keys and a caller's nonce (`GET /v1/attestation`).
    public static let attestation = "oauth3-enclave/attestation/v1"
    /// HPKE `info` of a sealed secret: payload is `tenant ‖ 0x00 ‖ name`, so a relay cannot move it.
    public static let secret = "oauth3-enclave/secret/v1"
    /// The audit log's sealed head: payload is `seq ‖ 0x00 ‖ hash`.
    public static let auditHead = "oauth3-enclave/audit-head/v1"
    /// A database column sealed by the daemon's row key: payload is `table ‖ 0x00 ‖ row ‖ 0x00 ‖ tenant ‖ 0x00 ‖ column`
    /// (the AES-GCM associated data), so a ciphertext moved to another row, tenant or column does not open.
    public static let rowColumn = "oauth3-enclave/row-column/v1"
    /// A row's MAC: payload is the row's canonical encoding (`Store`'s `RowEncoding`).
    public static let rowMAC = "oauth3-enclave/row-mac/v1"
    /// The audit log's head as `GET /v1/attestation` reports it, signed by the attested key: payload is
    /// `seq ‖ 0x00 ‖ hash ‖ 0x00 ‖ nonce (hex)`.
    public static let auditHeadSigned = "oauth3-enclave/audit-head-signed/v1"
    /// The `format` of a result's `attestation` object.
    public static let resultAttestationFormat = "oauth3-enclave/result-attestation/v1"

    /// `UTF-8(domain) ‖ 0x00 ‖ payload`.
    public static func separated(_ domain: String, _ payload: [UInt8]) -> [UInt8] {
        Array(domain.utf8) + [0] + payload
    }
}

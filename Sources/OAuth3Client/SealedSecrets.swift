import Crypto
import DCAPVerifier
import Foundation
import OAuth3Wire

extension OAuth3Client {
    /// Seals `value` to the enclave and stores it, so whoever relays the request (an orchestrator) never
    /// sees it. First verifies the enclave (``attestEnclave(expecting:)``): only an enclave whose boot
    /// identity is the one `expectation` names, on the OS it pins, with a log that replays, gets the value.
    /// - Throws: before anything is encrypted, when `expectation` names no application, or any check fails.
    /// - Parameter hosts: binds the secret to these hosts. They travel beside the sealed value and are bound
    ///   into its HPKE `info`, so a relay that changed or stripped them makes the value fail to open.
    public func putSealedSecret(_ name: String, value: String, expecting expectation: EnclaveExpectation, hosts: [String]? = nil) async throws {
        guard expectation.namesAnApplication else {
            throw OAuth3ClientError(status: nil, message: "sealing needs the application you mean: an expected compose hash or app id (or a pinned enclave)")
        }
        let enclave = try await attestEnclave(expecting: expectation)
        let tenant = try await me().tenantId
        var sender = try HPKE.Sender(
            recipientKey: try Curve25519.KeyAgreement.PublicKey(rawRepresentation: enclave.hpkePublicKey), ciphersuite: .Curve25519_SHA256_ChachaPoly,
            info: Data(Domain.separated(Domain.secret, Array("\(tenant)\u{0}\(name)\(hosts.map { "\u{0}hosts=" + $0.joined(separator: ",") } ?? "")".utf8))))
        let ciphertext = try sender.seal(Data(value.utf8))
        let sealed = SealedValue(enc: sender.encapsulatedKey.hexString, ciphertext: ciphertext.hexString)
        let _: [String: String] = try await send("PUT", "/secrets/\(name)", body: SecretValue(sealed: sealed, hosts: hosts))
    }
}

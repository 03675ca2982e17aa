import Crypto
import DCAPVerifier
import Foundation
import OAuth3Wire

extension OAuth3Client {
    /// Seals `value` to the enclave and stores it, so whoever relays the request (an orchestrator) never
    /// sees it. First checks the enclave's attestation: a fresh quote over its keys and our nonce, whose
    /// signatures chain to Intel's root (or the development root, only when `allowDevelopmentRoot`) and
    /// whose event log replays to its RTMRs. Throws, storing nothing, if any check fails.
    public func putSealedSecret(_ name: String, value: String, allowDevelopmentRoot: Bool = false) async throws {
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let document: JSONValue = try await send("GET", "/v1/attestation?nonce=\(nonce.hexString)", body: Optional<SecretValue>.none)
        guard let signingKey = document["signing_public_key"]?.stringValue.flatMap(DCAPVerifier.bytes(fromHex:)),
            let hpkeKey = document["hpke_public_key"]?.stringValue.flatMap(DCAPVerifier.bytes(fromHex:)),
            let quoteBytes = document["quote"]?.stringValue.flatMap(DCAPVerifier.bytes(fromHex:))
        else { throw OAuth3ClientError(status: nil, message: "the enclave's attestation is missing its keys or quote") }
        let quote = try Quote.parse(quoteBytes)
        let expected = Array(SHA512.hash(data: Array("oauth3-enclave/attestation/v1".utf8) + [0] + signingKey + hpkeKey + nonce))
        guard quote.reportData == expected else {
            throw OAuth3ClientError(status: nil, message: "the enclave's quote is not bound to its keys and our nonce")
        }
        let checks = await QuoteVerifier(roots: allowDevelopmentRoot ? [.intel, .development] : [.intel]).verifySignatures(of: quote, at: Date())
        if let failed = checks.first(where: { !$0.passed }) {
            throw OAuth3ClientError(status: nil, message: "the enclave's attestation failed \(failed.name): \(failed.detail)" + (allowDevelopmentRoot ? "" : " (a development enclave needs --allow-dev-root)"))
        }
        if case .td(let report) = quote.body, let log = document["event_log"] {
            let entries = try EventLog.decode(Array(try JSONEncoder().encode(log)))
            guard try EventLog.replay(entries) == report.rtmrs else {
                throw OAuth3ClientError(status: nil, message: "the enclave's event log does not replay to its quote's RTMRs")
            }
        }
        let tenant = try await me().tenantId
        var sender = try HPKE.Sender(
            recipientKey: try Curve25519.KeyAgreement.PublicKey(rawRepresentation: hpkeKey), ciphersuite: .Curve25519_SHA256_ChachaPoly,
            info: Data("oauth3-enclave/secret/v1\u{0}\(tenant)\u{0}\(name)".utf8))
        let ciphertext = try sender.seal(Data(value.utf8))
        let sealed = SealedValue(enc: sender.encapsulatedKey.hexString, ciphertext: ciphertext.hexString)
        let _: [String: String] = try await send("PUT", "/secrets/\(name)", body: SecretValue(sealed: sealed))
    }
}

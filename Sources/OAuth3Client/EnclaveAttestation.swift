import Crypto
import DCAPVerifier
import Foundation
import OAuth3Wire

/// What a client requires of the enclave before it trusts it with anything: the boot identity it means
/// (compose hash and/or app id), the OS it runs on, and which roots count.
public struct EnclaveExpectation: Sendable {
    /// The compose hash the boot event log must state (hex), if any.
    public var composeHash: String?
    /// The app id the boot event log must state (hex), if any.
    public var appID: String?
    /// The OS measurements to compare with; nil fails as "OS not pinned".
    public var os: OSExpectation?
    /// Whether a quote from the DEVELOPMENT guest agent's root passes (it proves nothing about hardware).
    public var allowDevelopmentRoot: Bool

    public init(composeHash: String? = nil, appID: String? = nil, os: OSExpectation?, allowDevelopmentRoot: Bool = false) {
        self.composeHash = composeHash?.lowercased()
        self.appID = appID?.lowercased()
        self.os = os
        self.allowDevelopmentRoot = allowDevelopmentRoot
    }

    /// Whether an application identity is named at all.
    public var namesAnApplication: Bool { composeHash != nil || appID != nil }
}

/// A live enclave whose fresh quote over its keys and our nonce met every policy of an ``EnclaveExpectation``.
public struct AttestedEnclave: Sendable {
    /// The enclave's result-signing key (Ed25519, raw).
    public let signingPublicKey: [UInt8]
    /// The key secrets are sealed to (X25519, raw).
    public let hpkePublicKey: [UInt8]
    /// The quote's proof, boot identity included.
    public let attestation: VerifiedAttestation

    /// The boot identity (the log replayed, or this would not exist).
    public var identity: BootIdentity { attestation.identity ?? BootIdentity() }
}

extension OAuth3Client {
    /// Fetches `GET /v1/attestation` with a fresh nonce and verifies it with the same policies `verify` uses:
    /// the quote's signatures and chain, report_data = SHA-512(attestation domain ‖ keys ‖ nonce), an event
    /// log that replays to the quote, the OS measurements, and the expected boot identity.
    /// - Throws: ``OAuth3ClientError`` naming the first failed check.
    public func attestEnclave(expecting expectation: EnclaveExpectation) async throws -> AttestedEnclave {
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let document: JSONValue = try await send("GET", "/v1/attestation?nonce=\(nonce.hexString)", body: Optional<SecretValue>.none)
        guard let signingKey = document["signing_public_key"]?.stringValue.flatMap(DCAPVerifier.bytes(fromHex:)),
            let hpkeKey = document["hpke_public_key"]?.stringValue.flatMap(DCAPVerifier.bytes(fromHex:)),
            let quoteBytes = document["quote"]?.stringValue.flatMap(DCAPVerifier.bytes(fromHex:))
        else { throw OAuth3ClientError(status: nil, message: "the enclave's attestation is missing its keys or quote") }
        let quote: Quote
        do { quote = try Quote.parse(quoteBytes) } catch { throw OAuth3ClientError(status: nil, message: "the enclave's quote: \(error)") }
        var policies = AttestationPolicySet.enclave(os: expectation.os, composeHash: expectation.composeHash, appID: expectation.appID)
        let binding = Array(SHA512.hash(data: Domain.separated(Domain.attestation, signingKey + hpkeKey + nonce)))
        policies.policies.insert(contentsOf: [ReportDataPolicy(expected: binding, binding: "bound to the enclave's keys and our nonce"), NotDebugTDPolicy()] as [any AttestationPolicy], at: 0)
        let verifier = AttestationVerifier(roots: expectation.allowDevelopmentRoot ? [.intel, .development] : [.intel], policies: policies)
        let eventLog = document["event_log"].map { CanonicalJSON.encode($0) }
        let verdict = await verifier.verify(AttestationEvidence(quote: quote, eventLogJSON: eventLog), at: Date())
        guard let verified = verdict.verified else {
            let failed = verdict.firstFailure!
            let hint = failed.name == "pck_chain" && !expectation.allowDevelopmentRoot ? " (a development enclave needs --allow-dev-root)" : ""
            throw OAuth3ClientError(status: nil, message: "the enclave's attestation failed \(failed.name): \(failed.detail)\(hint)")
        }
        return AttestedEnclave(signingPublicKey: signingKey, hpkePublicKey: hpkeKey, attestation: verified)
    }
}

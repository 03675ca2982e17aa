import Crypto
import DCAPVerifier
import Foundation
import OAuth3Wire

/// Verifies a result's attestation: its hash, its signature, its quote's binding to that hash, then the
/// quote through an ``AttestationVerifier`` (signatures and chain, the caller's policies: event-log replay,
/// OS measurements, app identity). Each check is reported.
public enum ResultVerifier {
    public typealias Check = QuoteVerifier.Check

    /// - Parameters:
    ///   - result: the result object as the API returned it, `attestation` included.
    ///   - verifier: the roots and the policies the TD must meet; the result's report_data binding is added here.
    ///   - platform: how the platform (TCB) is judged.
    ///   - resultPolicies: requirements on the result's own content, evaluated once its hash and signature are checked.
    ///   - time: the validation time for certificates and collateral.
    public static func verify(
        result: JSONValue, verifier: AttestationVerifier, platform: AttestationVerifier.Platform = .signaturesOnly,
        resultPolicies: [any ResultPolicy] = [], at time: Date
    ) async -> ResultVerdict {
        var checks: [Check] = []
        func check(_ name: String, _ passed: Bool, _ detail: String) { checks.append(.init(name: name, passed: passed, detail: detail)) }
        guard case .object(var members) = result, case .object(let attestation)? = members.removeValue(forKey: "attestation") else {
            check("attestation_present", false, "the result has no attestation object")
            return ResultVerdict(checks: checks, attestation: nil, verified: nil)
        }
        check("attestation_format", attestation["format"]?.stringValue == Attestor.resultFormat, "format \(attestation["format"]?.stringValue ?? "missing")")
        let hash = Array(SHA256.hash(data: CanonicalJSON.encode(.object(members))))
        check("result_hash", attestation["result_sha256"]?.stringValue == hash.hexString,
              "SHA-256 of the canonical result is \(hash.hexString)" + (attestation["result_sha256"]?.stringValue == hash.hexString ? "" : ", the attestation says \(attestation["result_sha256"]?.stringValue ?? "nothing")"))
        let message = Domain.separated(Domain.result, hash)
        if let keyBytes = attestation["public_key"]?.stringValue.flatMap(DCAPVerifier.bytes(fromHex:)),
            let signature = attestation["signature"]?.stringValue.flatMap(DCAPVerifier.bytes(fromHex:)),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes) {
            check("signature", key.isValidSignature(signature, for: message), "Ed25519 signature by the enclave key \(keyBytes.hexString)")
        } else {
            check("signature", false, "public_key or signature missing or malformed")
        }
        for policy in resultPolicies {
            let verdict = policy.evaluate(members)
            check(policy.name, verdict.passed, verdict.detail)
        }
        guard let quoteBytes = attestation["quote"]?.stringValue.flatMap(DCAPVerifier.bytes(fromHex:)) else {
            check("quote", false, "no quote")
            return ResultVerdict(checks: checks, attestation: nil, verified: nil)
        }
        let quote: Quote
        do {
            quote = try Quote.parse(quoteBytes)
            check("quote_parse", true, "TDX quote v\(quote.header.version)")
        } catch {
            check("quote_parse", false, "\(error)")
            return ResultVerdict(checks: checks, attestation: nil, verified: nil)
        }
        let eventLog = attestation["event_log"].map { Array(CanonicalJSON.encode($0)) }
        var bound = verifier
        bound.policies.policies.insert(contentsOf: [
            ReportDataPolicy(expected: Attestor.reportData(Domain.result, hash), binding: "SHA-512(domain ‖ result hash)"), NotDebugTDPolicy(),
        ] as [any AttestationPolicy], at: 0)
        let verdict = await bound.verify(AttestationEvidence(quote: quote, eventLogJSON: eventLog), platform: platform, at: time)
        checks += verdict.checks
        let passed = checks.allSatisfy(\.passed)
        return ResultVerdict(
            checks: checks, attestation: verdict,
            verified: passed ? verdict.verified.map { VerifiedResult(members: members, attestation: $0) } : nil)
    }
}

/// A requirement on what a result says (not on the TD that attested it): the slot for a consent policy
/// over a result's approval record. It sees exactly the members that were hashed and signed.
public protocol ResultPolicy: Sendable {
    /// The check's name in reports.
    var name: String { get }
    /// Whether the result's members (`attestation` removed) meet this policy.
    func evaluate(_ members: [String: JSONValue]) -> PolicyVerdict
}

/// Every check on one result, and the proof when all passed.
public struct ResultVerdict: Sendable {
    public let checks: [ResultVerifier.Check]
    /// The quote's verdict, when the result had a quote that parsed.
    public let attestation: AttestationVerdict?
    /// Present only when every check passed.
    public let verified: VerifiedResult?

    /// The boot identity of a log that replays, if the result had one.
    public var identity: BootIdentity? { attestation?.evidence.identity }
}

/// A result whose hash, signature, binding and quote all verified under the caller's policies. Only
/// ``ResultVerifier`` makes one.
public struct VerifiedResult: Sendable {
    /// The result's members, `attestation` removed: exactly what was hashed and signed.
    public let members: [String: JSONValue]
    public let attestation: VerifiedAttestation

    fileprivate init(members: [String: JSONValue], attestation: VerifiedAttestation) {
        self.members = members
        self.attestation = attestation
    }
}

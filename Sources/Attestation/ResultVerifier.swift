import Crypto
import DCAPVerifier
import Foundation
import OAuth3Wire

/// Verifies a result's attestation: its hash, its signature, its quote's binding to that hash, then the
/// quote through an ``AttestationVerifier`` (signatures and chain, the caller's policies: event-log replay,
/// OS measurements, app identity). Each check is reported.
public enum ResultVerifier {
    public typealias Check = QuoteVerifier.Check

    /// Verifies a result as an auditor receives it: read exactly (``AttestedResult/read(_:)``: a member the
    /// format does not have, or one missing, fails check `result_format` and nothing else is judged), then
    /// ``verify(result:verifier:platform:resultPolicies:at:)``.
    public static func verify(
        document: JSONValue, verifier: AttestationVerifier, platform: AttestationVerifier.Platform = .signaturesOnly,
        resultPolicies: [any ResultPolicy] = [], at time: Date
    ) async -> ResultVerdict {
        guard document["attestation"] != nil else {
            return ResultVerdict(checks: [.init(name: "attestation_present", passed: false, detail: "the result has no attestation object")], result: nil, attestation: nil, verified: nil)
        }
        let result: AttestedResult
        do {
            result = try AttestedResult.read(document)
        } catch {
            return ResultVerdict(checks: [.init(name: "result_format", passed: false, detail: "\(error)")], result: nil, attestation: nil, verified: nil)
        }
        let format = Check(name: "result_format", passed: true, detail: "every member is the format's, none missing or added")
        let verdict = await verify(result: result, verifier: verifier, platform: platform, resultPolicies: resultPolicies, at: time)
        return ResultVerdict(checks: [format] + verdict.checks, result: result, attestation: verdict.attestation, verified: verdict.verified)
    }

    /// - Parameters:
    ///   - result: the result, as the API returned it.
    ///   - verifier: the roots and the policies the TD must meet; the result's report_data binding is added here.
    ///   - platform: how the platform (TCB) is judged.
    ///   - resultPolicies: requirements on the result's own claims, evaluated once their hash and signature are checked.
    ///   - time: the validation time for certificates and collateral.
    public static func verify(
        result: AttestedResult, verifier: AttestationVerifier, platform: AttestationVerifier.Platform = .signaturesOnly,
        resultPolicies: [any ResultPolicy] = [], at time: Date
    ) async -> ResultVerdict {
        var checks: [Check] = []
        func check(_ name: String, _ passed: Bool, _ detail: String) { checks.append(.init(name: name, passed: passed, detail: detail)) }
        let attestation = result.attestation
        check("attestation_format", attestation.format == Attestor.resultFormat, "format \(attestation.format)")
        let canonical: [UInt8]
        do { canonical = try result.claims.canonicalEncoding() } catch {
            check("result_hash", false, "the result cannot be encoded: \(error)")
            return ResultVerdict(checks: checks, result: result, attestation: nil, verified: nil)
        }
        let hash = Array(SHA256.hash(data: canonical))
        check("result_hash", attestation.resultSHA256 == hash.hexString,
              "SHA-256 of the canonical result is \(hash.hexString)" + (attestation.resultSHA256 == hash.hexString ? "" : ", the attestation says \(attestation.resultSHA256)"))
        let message = Domain.separated(Domain.result, hash)
        if let keyBytes = DCAPVerifier.bytes(fromHex: attestation.publicKey), let signature = DCAPVerifier.bytes(fromHex: attestation.signature),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes) {
            check("signature", key.isValidSignature(signature, for: message), "Ed25519 signature by the enclave key \(keyBytes.hexString)")
        } else {
            check("signature", false, "public_key or signature malformed")
        }
        for policy in resultPolicies {
            let verdict = policy.evaluate(result.claims)
            check(policy.name, verdict.passed, verdict.detail)
        }
        guard let quoteBytes = DCAPVerifier.bytes(fromHex: attestation.quote) else {
            check("quote", false, "the quote is not hex")
            return ResultVerdict(checks: checks, result: result, attestation: nil, verified: nil)
        }
        let quote: Quote
        do {
            quote = try Quote.parse(quoteBytes)
            check("quote_parse", true, "TDX quote v\(quote.header.version)")
        } catch {
            check("quote_parse", false, "\(error)")
            return ResultVerdict(checks: checks, result: result, attestation: nil, verified: nil)
        }
        let eventLog = CanonicalJSON.encode(attestation.eventLog)
        var bound = verifier
        bound.policies.policies.insert(contentsOf: [
            ReportDataPolicy(expected: Attestor.reportData(Domain.result, hash), binding: "SHA-512(domain ‖ result hash)"), NotDebugTDPolicy(),
        ] as [any AttestationPolicy], at: 0)
        let verdict = await bound.verify(AttestationEvidence(quote: quote, eventLogJSON: eventLog), platform: platform, at: time)
        checks += verdict.checks
        let passed = checks.allSatisfy(\.passed)
        return ResultVerdict(
            checks: checks, result: result, attestation: verdict,
            verified: passed ? verdict.verified.map { VerifiedResult(claims: result.claims, attestation: $0) } : nil)
    }
}

/// A requirement on what a result says (not on the TD that attested it): the slot for a consent policy
/// over a result's approval record. It sees exactly the claims that were hashed and signed.
public protocol ResultPolicy: Sendable {
    /// The check's name in reports.
    var name: String { get }
    /// Whether the result's claims meet this policy.
    func evaluate(_ claims: ResultClaims) -> PolicyVerdict
}

/// Every check on one result, and the proof when all passed.
public struct ResultVerdict: Sendable {
    public let checks: [ResultVerifier.Check]
    /// The result as read, whatever the checks say (nil when it was not a result of this format). Its
    /// content is proven only by ``verified``.
    public let result: AttestedResult?
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
    /// The result's claims: exactly what was hashed and signed.
    public let claims: ResultClaims
    public let attestation: VerifiedAttestation

    fileprivate init(claims: ResultClaims, attestation: VerifiedAttestation) {
        self.claims = claims
        self.attestation = attestation
    }
}

import Crypto
import DCAPVerifier
import Foundation
import OAuth3Wire

/// Verifies a result's attestation: its hash, its signature, its quote's binding to that hash, the quote's
/// signatures and chain, and the event log against the quote's RTMRs. Each check is reported.
public enum ResultVerifier {
    public typealias Check = QuoteVerifier.Check

    /// - Parameters:
    ///   - result: the result object as the API returned it, `attestation` included.
    ///   - roots: the roots the quote may chain to (Intel's; the development root only when asked).
    ///   - time: the validation time for certificates.
    public static func verify(result: JSONValue, roots: [QuoteVerifier.Root], at time: Date) async -> (checks: [Check], application: EventLog.Application?) {
        var checks: [Check] = []
        func check(_ name: String, _ passed: Bool, _ detail: String) { checks.append(.init(name: name, passed: passed, detail: detail)) }
        guard case .object(var members) = result, case .object(let attestation)? = members.removeValue(forKey: "attestation") else {
            check("attestation_present", false, "the result has no attestation object")
            return (checks, nil)
        }
        check("attestation_format", attestation["format"]?.stringValue == Attestor.resultFormat, "format \(attestation["format"]?.stringValue ?? "missing")")
        let hash = Array(SHA256.hash(data: CanonicalJSON.encode(.object(members))))
        check("result_hash", attestation["result_sha256"]?.stringValue == hash.hexString,
              "SHA-256 of the canonical result is \(hash.hexString)" + (attestation["result_sha256"]?.stringValue == hash.hexString ? "" : ", the attestation says \(attestation["result_sha256"]?.stringValue ?? "nothing")"))
        let message = Array("oauth3-enclave/result/v1".utf8) + [0] + hash
        if let keyBytes = attestation["public_key"]?.stringValue.flatMap(DCAPVerifier.bytes(fromHex:)),
            let signature = attestation["signature"]?.stringValue.flatMap(DCAPVerifier.bytes(fromHex:)),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes) {
            check("signature", key.isValidSignature(signature, for: message), "Ed25519 signature by the enclave key \(keyBytes.hexString)")
        } else {
            check("signature", false, "public_key or signature missing or malformed")
        }
        let expectedReportData = Attestor.reportData("oauth3-enclave/result/v1", hash)
        guard let quoteBytes = attestation["quote"]?.stringValue.flatMap(DCAPVerifier.bytes(fromHex:)) else {
            check("quote", false, "no quote")
            return (checks, nil)
        }
        let quote: Quote
        do {
            quote = try Quote.parse(quoteBytes)
            check("quote_parse", true, "TDX quote v\(quote.header.version)")
        } catch {
            check("quote_parse", false, "\(error)")
            return (checks, nil)
        }
        check("report_data_binding", quote.reportData == expectedReportData, "the quote's report_data is SHA-512(domain ‖ result hash)")
        checks += await QuoteVerifier(roots: roots).verifySignatures(of: quote, at: time)
        var application: EventLog.Application?
        if case .td(let report) = quote.body {
            check("td_not_debug", !report.isDebug, report.isDebug ? "a debug TD: its memory is readable by the host" : "not a debug TD")
            if let log = attestation["event_log"], let data = try? JSONEncoder().encode(log), let entries = try? EventLog.decode(Array(data)) {
                do {
                    let rtmrs = try EventLog.replay(entries)
                    check("event_log_replay", rtmrs == report.rtmrs, rtmrs == report.rtmrs ? "the event log replays to RTMR0–3" : "the event log does not replay to the quote's RTMRs")
                    application = EventLog.application(entries)
                } catch {
                    check("event_log_replay", false, "\(error)")
                }
            } else {
                check("event_log_replay", false, "no event log")
            }
        }
        return (checks, application)
    }
}

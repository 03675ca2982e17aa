import Foundation
import JWTKit

/// The rules an orchestrator's JWT must meet besides its signature, checked by us rather than left to
/// JWTKit: JWTKit picks the key by `kid` and verifies with it whatever the header's `alg` says, so a token
/// labelled `none`, `HS384` or `RS256` over a valid HMAC-SHA256 signature would pass. What this daemon
/// accepts is exactly one algorithm, a bounded lifetime on the daemon's own clock, and tenant ids that
/// cannot be an API-key account's.
enum OrchestratorToken {
    /// The only `alg` accepted, spelt exactly so.
    static let algorithm = "HS256"

    /// The prefix of tenant ids that `/signup` makes (``Identifiers/make(_:)``); JWTs may not use it, so
    /// an orchestrator can never name an API-key account.
    static let signupTenantPrefix = "tenant_"

    /// Checks the header segment before any signature is looked at: base64url without padding that
    /// decodes to a JSON object whose `alg` is exactly `HS256` and which asks for no critical extension
    /// (`crit`, RFC 7515 §4.1.11: we implement none, so we must refuse it).
    /// - Throws: 401 naming what is wrong with the header.
    static func checkHeader(of token: String) throws(GatewayError) {
        let segment = token.prefix { $0 != "." }
        guard let bytes = base64URLDecoded(segment) else {
            throw .unauthorized("invalid JWT: the header is not base64url (A-Z a-z 0-9 - _, no padding)")
        }
        guard let header = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any] else {
            throw .unauthorized("invalid JWT: the header is not a JSON object")
        }
        guard let alg = header["alg"] else {
            throw .unauthorized("invalid JWT: the header has no alg; only \(algorithm) is accepted")
        }
        guard let name = alg as? String, name == algorithm else {
            throw .unauthorized("invalid JWT: alg \(describe(alg)) is not accepted; only \(algorithm) is")
        }
        guard header["crit"] == nil else {
            throw .unauthorized("invalid JWT: the header lists critical extensions (crit), and this enclave implements none")
        }
    }

    /// Checks verified claims against the daemon's clock: `exp` present, in the future, and at most
    /// `maxLifetimeSeconds` ahead (a leaked token is useful for that long at most); the tenant id well
    /// formed and outside the signup namespace.
    /// - Parameters:
    ///   - now: milliseconds since the epoch, from the injected ``WallClock``.
    /// - Throws: 401 for a token that is not acceptable, 403 for a tenant id a JWT may not name.
    static func check(_ claims: OrchestratorClaims, now: Int64, maxLifetimeSeconds: Int) throws(GatewayError) {
        guard let exp = claims.exp else {
            throw .unauthorized("invalid JWT: exp is required (no token lives forever)")
        }
        let expires = Int64((exp.value.timeIntervalSince1970 * 1000).rounded(.down))
        guard expires > now else {
            throw .unauthorized("invalid JWT: expired \((now - expires) / 1000) s ago")
        }
        guard expires - now <= Int64(maxLifetimeSeconds) * 1000 else {
            throw .unauthorized(
                "invalid JWT: exp is \((expires - now) / 1000) s ahead; this enclave accepts tokens that expire within \(maxLifetimeSeconds) s")
        }
        guard OrchestratorClaims.isValidTenantId(claims.tenantId) else {
            throw .unauthorized("invalid JWT: tenant_id must be 1–64 letters, digits, '_' or '-'")
        }
        guard !claims.tenantId.lowercased().hasPrefix(signupTenantPrefix) else {
            throw .forbidden("a JWT's tenant_id may not start with '\(signupTenantPrefix)': those ids belong to API-key accounts")
        }
    }

    /// Strict base64url (RFC 7515 §2): the URL-safe alphabet only, no padding, no whitespace.
    static func base64URLDecoded(_ text: Substring) -> Data? {
        guard !text.isEmpty, text.utf8.count % 4 != 1,
            text.utf8.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") })
        else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        return Data(base64Encoded: standard)
    }

    /// A header value as it appears in an error: strings quoted, at most 32 characters, printable only.
    private static func describe(_ value: Any) -> String {
        guard let text = value as? String else { return "(not a string)" }
        let shown = text.unicodeScalars.prefix(32).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? String($0) : "?" }.joined()
        return "'\(shown)'" + (text.unicodeScalars.count > 32 ? "…" : "")
    }
}

/// The claims of an orchestrator's JWT. `exp` is optional here only so that its absence is refused with
/// a sentence (``OrchestratorToken/check(_:now:maxLifetimeSeconds:)``) rather than a decoding error.
struct OrchestratorClaims: JWTPayload {
    var tenantId: String
    var plan: String?
    var iat: IssuedAtClaim?
    var exp: ExpirationClaim?

    enum CodingKeys: String, CodingKey { case tenantId = "tenant_id", plan, iat, exp }

    /// Nothing here: JWTKit would check `exp` against the system clock, and the daemon checks it against
    /// its injected clock instead, after the signature (``OrchestratorToken/check(_:now:maxLifetimeSeconds:)``).
    func verify(using algorithm: some JWTAlgorithm) throws {}

    static func isValidTenantId(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}

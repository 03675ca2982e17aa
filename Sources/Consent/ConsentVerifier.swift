import Foundation
import OAuth3Wire

/// Checks a result's consent record offline: that a passkey signed exactly the statement recorded, and
/// that the statement is about this result (its request, code, arguments, hosts and secrets). What
/// `oauth3-enclave verify` runs; it needs nothing but the result.
///
/// The relying party is read from the signed client data: the RP id is its origin's host, which is how
/// the daemon derives it from its public URL. The verdict names the origin, so an auditor sees which
/// daemon's page the approver used.
public enum ConsentVerifier {
    public struct Check: Sendable, Hashable {
        public let name: String
        public let passed: Bool
        public let detail: String
    }

    /// The verdict on `result` (the attested claims), one check per fact, and a sentence saying who approved what.
    public static func verify(result: ResultClaims) -> (checks: [Check], summary: String) {
        var checks: [Check] = []
        func check(_ name: String, _ passed: Bool, _ detail: String) { checks.append(Check(name: name, passed: passed, detail: detail)) }
        let approval = result.consent.approval
        let codeHash = result.run.codeSHA256
        guard let passkey = approval.passkey else {
            let who = switch approval.method {
            case .token: "whoever held the approval link (token-only account: no person is proven)"
            case .trustedCode: "code trusted earlier without a passkey"
            case .session: "a session approved without a passkey"
            case .passkey: "nobody: a passkey method without a signature"
            }
            check("consent_record", approval.method != .passkey, "method \(approval.method.rawValue): " + who)
            return (checks, "approved by \(who)")
        }
        let statement = passkey.statement
        let digest = ConsentDigest.of(statement)
        check("consent_digest", digest.hexString == passkey.digest, "SHA-256 of the canonical statement is \(digest.hexString)")
        guard let key = Base64URL.decode(passkey.publicKey).flatMap({ try? CredentialPublicKey(cose: $0) }),
            let authenticatorData = Base64URL.decode(passkey.authenticatorData), let clientData = Base64URL.decode(passkey.clientDataJSON),
            let signature = Base64URL.decode(passkey.signature), let client = try? ClientData(clientData),
            let host = URL(string: client.origin)?.host
        else {
            check("consent_signature", false, "the passkey fields are not valid base64url, COSE or client data")
            return (checks, "unverifiable consent")
        }
        let party = RelyingParty(id: host, origin: client.origin)
        switch party.verifyAssertion(authenticatorData: authenticatorData, clientDataJSON: clientData, signature: signature, challenge: digest, publicKey: key, storedCount: 0) {
        case .success: check("consent_signature", true, "\(key.algorithm == CredentialPublicKey.es256 ? "ES256" : "Ed25519") passkey \(passkey.credentialId) signed the statement on \(client.origin)")
        case .failure(let failure): check("consent_signature", false, failure.reason)
        }
        check("consent_purpose", statement.purpose == "decide", "the statement decides a request (purpose \(statement.purpose))")
        switch approval.method {
        case .passkey:
            check("consent_subject", statement.subject == result.requestId && statement.decision == "approve",
                  "the statement approves \(statement.subject); the result is \(result.requestId)")
            check("consent_code", statement.codeSha256 == codeHash, "approved code \(statement.codeSha256 ?? "none"); ran \(codeHash)")
            let args = result.consent.args
            check("consent_args", statement.args == args, "approved args \(statement.args.sorted { $0.key < $1.key }); ran with \(args.sorted { $0.key < $1.key })")
        case .trustedCode:
            check("consent_code", statement.level == "trust_code" && statement.codeSha256 == codeHash, "code \(statement.codeSha256 ?? "none") trusted at level \(statement.level ?? "?"); ran \(codeHash)")
        case .session:
            let codeFits = statement.anyCode == true || statement.codeSha256 == codeHash
            check("consent_code", statement.level == "scope" && codeFits,
                  statement.anyCode == true ? "the scope allowed ANY code within its hosts and secrets" : "the scope approved code \(statement.codeSha256 ?? "none"); ran \(codeHash)")
        case .token:
            check("consent_record", false, "a token decision carries a passkey signature")
        }
        let hosts = result.run.granted.net, secrets = result.run.granted.env
        check("consent_grants", Set(hosts).isSubset(of: Set(statement.hosts)) || statement.level == "scope", "hosts granted \(hosts), approved \(statement.hosts)")
        check("consent_secrets", Set(secrets).isSubset(of: Set(statement.secrets)), "secrets granted \(secrets), approved \(statement.secrets)")
        let who = passkey.approverName.map { "\($0) (passkey \(passkey.credentialId))" } ?? "passkey \(passkey.credentialId)"
        return (checks, "\(who) approved \(statement.level ?? "?") for \(statement.subject) in account \(statement.tenantId) at \(statement.issuedAt) ms, via \(approval.method.rawValue)")
    }
}

extension Array where Element == UInt8 {
    /// Lowercase hex.
    var hexString: String { map { String(format: "%02x", $0) }.joined() }
}

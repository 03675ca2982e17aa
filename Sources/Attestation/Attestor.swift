import Crypto
import DCAPVerifier
import Foundation
import OAuth3Wire

/// Binds results to the TEE: every result is hashed (``CanonicalJSON``), signed with the enclave's Ed25519
/// key, and quoted (report_data = a domain-separated hash of the result hash), one quote per result.
///
/// The enclave's keys come from the guest agent's `GetKey`, so they are stable for this application and
/// bound to a quote at start (``keyQuote``) and on demand with a nonce (``freshAttestation(nonce:)``).
public struct Attestor: Sendable {
    public static let resultFormat = Domain.resultAttestationFormat
    static let resultDomain = Domain.result
    static let keysDomain = Domain.keys
    static let attestationDomain = Domain.attestation

    public let agent: any GuestAgent
    let signingKey: Curve25519.Signing.PrivateKey
    /// The key secrets can be sealed to (HPKE, X25519).
    public let hpkeKey: Curve25519.KeyAgreement.PrivateKey
    /// The quote binding both public keys, taken at start.
    public let keyQuote: QuoteReply
    public let info: GuestInfo

    /// Derives the keys from the agent and binds them to a quote.
    public init(agent: any GuestAgent) async throws(AttestationError) {
        self.agent = agent
        do {
            signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: Array(try await agent.key(path: "oauth3/signing/v1", purpose: "signing").prefix(32)))
            hpkeKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: Array(try await agent.key(path: "oauth3/hpke/v1", purpose: "encryption").prefix(32)))
        } catch let error as AttestationError {
            throw error
        } catch {
            throw AttestationError("cannot derive the enclave's keys: \(error)")
        }
        info = try await agent.info()
        keyQuote = try await agent.quote(reportData: Self.reportData(Self.keysDomain, Array(signingKey.publicKey.rawRepresentation) + Array(hpkeKey.publicKey.rawRepresentation)))
    }

    public var signingPublicKey: [UInt8] { Array(signingKey.publicKey.rawRepresentation) }
    public var hpkePublicKey: [UInt8] { Array(hpkeKey.publicKey.rawRepresentation) }

    /// report_data for a domain and payload: SHA-512(domain ‖ 0x00 ‖ payload), 64 bytes.
    public static func reportData(_ domain: String, _ payload: [UInt8]) -> [UInt8] {
        Array(SHA512.hash(data: Domain.separated(domain, payload)))
    }

    /// The attestation of `claims`: the hash of their canonical encoding, its signature, a quote over it.
    public func attest(_ claims: ResultClaims) async throws(AttestationError) -> ResultAttestation {
        let canonical: [UInt8]
        do { canonical = try claims.canonicalEncoding() } catch { throw AttestationError("cannot encode the result: \(error)") }
        let hash = Array(SHA256.hash(data: canonical))
        let message = Domain.separated(Self.resultDomain, hash)
        let signature: [UInt8]
        do { signature = Array(try signingKey.signature(for: message)) } catch { throw AttestationError("cannot sign the result: \(error)") }
        let reportData = Self.reportData(Self.resultDomain, hash)
        let quote = try await agent.quote(reportData: reportData)
        return ResultAttestation(
            format: Self.resultFormat, resultSHA256: hash.hexString, signature: signature.hexString, publicKey: signingPublicKey.hexString,
            reportData: reportData.hexString, quote: quote.quote.hexString,
            eventLog: (try? JSONDecoder().decode(JSONValue.self, from: Data(quote.eventLogJSON.utf8))) ?? .array([]), guestAgent: agent.name)
    }

    /// A fresh quote over the enclave's public keys and `nonce`, so anyone can check it is live.
    /// - Parameter auditHead: the audit log's head (sequence number, chain hash), signed with the nonce by the
    ///   attested key, so a client that remembers heads sees the database rolled back (the head moves backwards).
    public func freshAttestation(nonce: [UInt8], auditHead: (seq: Int64, hash: String)? = nil) async throws(AttestationError) -> JSONValue {
        let reportData = Self.reportData(Self.attestationDomain, signingPublicKey + hpkePublicKey + nonce)
        let quote = try await agent.quote(reportData: reportData)
        var head: [String: JSONValue] = [:]
        if let auditHead {
            let signature = (try? signingKey.signature(for: Self.auditHeadMessage(seq: auditHead.seq, hash: auditHead.hash, nonce: nonce))).map { Array($0) } ?? []
            head["audit_head"] = .object(["seq": .number(Double(auditHead.seq)), "hash": .string(auditHead.hash), "signature": .string(signature.hexString)])
        }
        return .object(head.merging([
            "format": .string(Domain.attestation),
            "nonce": .string(nonce.hexString),
            "signing_public_key": .string(signingPublicKey.hexString),
            "hpke_public_key": .string(hpkePublicKey.hexString),
            "hpke_suite": .string("X25519-HKDF-SHA256/HKDF-SHA256/ChaCha20Poly1305"),
            "report_data": .string(reportData.hexString),
            "quote": .string(quote.quote.hexString),
            "event_log": (try? JSONDecoder().decode(JSONValue.self, from: Data(quote.eventLogJSON.utf8))) ?? .array([]),
            "key_quote": .string(keyQuote.quote.hexString),
            "app_id": .string(info.appID), "compose_hash": .string(info.composeHash), "instance_id": .string(info.instanceID),
            "guest_agent": .string(agent.name),
        ]) { first, _ in first })
    }

    /// What an audit head's signature covers: `"oauth3-enclave/audit-head-signed/v1" NUL seq NUL hash NUL nonce-hex`.
    public static func auditHeadMessage(seq: Int64, hash: String, nonce: [UInt8]) -> [UInt8] {
        Domain.separated(Domain.auditHeadSigned, Array("\(seq)\u{0}\(hash)\u{0}\(nonce.hexString)".utf8))
    }

    /// The HPKE suite sealed secrets use.
    public static let hpkeSuite = HPKE.Ciphersuite.Curve25519_SHA256_ChachaPoly
    /// What a sealed secret is bound to: its tenant and name (a relay cannot move it).
    /// - Parameter hosts: a bound secret's hosts as the request sent them, so a relay cannot change or strip them.
    public static func hpkeInfo(tenant: String, name: String, hosts: [String]? = nil) -> Data {
        let bound = hosts.map { "\u{0}hosts=" + $0.joined(separator: ",") } ?? ""
        return Data(Domain.separated(Domain.secret, Array("\(tenant)\u{0}\(name)\(bound)".utf8)))
    }

    /// Opens an HPKE-sealed secret value addressed to this enclave (for a bound secret, sealed with its `hosts`).
    public func openSealed(encapsulatedKey: [UInt8], ciphertext: [UInt8], tenant: String, name: String, hosts: [String]? = nil) throws(AttestationError) -> String {
        do {
            var recipient = try HPKE.Recipient(
                privateKey: hpkeKey, ciphersuite: Self.hpkeSuite, info: Self.hpkeInfo(tenant: tenant, name: name, hosts: hosts),
                encapsulatedKey: Data(encapsulatedKey))
            let plain = try recipient.open(Data(ciphertext))
            guard let text = String(data: plain, encoding: .utf8) else { throw AttestationError("the sealed value is not UTF-8") }
            return text
        } catch let error as AttestationError {
            throw error
        } catch {
            throw AttestationError("cannot open the sealed secret: it was not sealed to this enclave for this tenant and name, or was altered")
        }
    }
}

/// Development agent in process (tests, and `run` without a socket): the same authority, no socket.
public struct InProcessDevelopmentAgent: GuestAgent {
    public let authority: DevelopmentAuthority
    public var name: String { "development:in-process" }
    public init(authority: DevelopmentAuthority) { self.authority = authority }
    public func quote(reportData: [UInt8]) async throws(AttestationError) -> QuoteReply {
        do { return try authority.quote(reportData: reportData) } catch { throw AttestationError("\(error)") }
    }
    public func key(path: String, purpose: String) async throws(AttestationError) -> [UInt8] { authority.key(path: path, purpose: purpose) }
    public func info() async throws(AttestationError) -> GuestInfo { authority.info }
}

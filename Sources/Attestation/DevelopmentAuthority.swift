import Crypto
import DCAPVerifier
import Foundation
import SwiftASN1
import X509

/// The development guest agent's "hardware": a certificate chain and keys that sign quotes in the real
/// TDX v4 layout, so everything downstream (parsing, signature checks, report-data binding, event-log
/// replay) runs exactly as in production. Only the root differs, and it says so: its key is derived from
/// a public constant, so `verify --allow-dev-root` can recognise it and nothing else can mistake it for Intel.
public struct DevelopmentAuthority: Sendable {
    /// The development root's key, from a published constant: anyone can sign with it, which is the point.
    static let rootKey = try! P256.Signing.PrivateKey(rawRepresentation: SHA256.hash(data: Data("oauth3-enclave development root CA v1".utf8)))
    /// SHA-256 of the development root's public key (SubjectPublicKeyInfo DER), pinned by verifiers that accept it.
    public static var rootKeySHA256: String {
        SHA256.hash(data: rootKey.publicKey.derRepresentation).hexString
    }

    let seed: [UInt8]
    let pckKey: P256.Signing.PrivateKey
    let attestationKey: P256.Signing.PrivateKey
    let chainPEM: String
    /// The application this agent pretends to run.
    public let info: GuestInfo
    let composeHash: [UInt8]
    let appID: [UInt8]
    let instanceID: [UInt8]
    /// Events the application emits after boot (dstack's `EmitEvent`), appended after `system-ready`: they
    /// extend RTMR3 like any other, and verifiers must never read identity from them.
    public var applicationEvents: [RuntimeEvent] = []

    /// A runtime event's name and payload.
    public struct RuntimeEvent: Sendable, Hashable {
        public var name: String
        public var payload: [UInt8]
        public init(name: String, payload: [UInt8]) {
            self.name = name
            self.payload = payload
        }
    }

    /// - Parameters:
    ///   - seed: 32 secret bytes: the PCK, attestation and `GetKey` keys all derive from it.
    ///   - appCompose: the app-compose.json whose ``ComposeHash`` this agent measures.
    public init(seed: [UInt8], appCompose: [UInt8]) throws {
        self.seed = seed
        pckKey = try P256.Signing.PrivateKey(rawRepresentation: Self.derive(seed, "pck"))
        attestationKey = try P256.Signing.PrivateKey(rawRepresentation: Self.derive(seed, "attestation-key"))
        composeHash = ComposeHash.of(appCompose)
        appID = Array(Self.derive(seed, "app-id").prefix(20))
        instanceID = Array(Self.derive(seed, "instance-id").prefix(20))
        info = GuestInfo(appID: appID.hexString, instanceID: instanceID.hexString, composeHash: composeHash.hexString, appName: "oauth3-enclave (development guest agent)")

        let rootName = try DistinguishedName {
            CommonName("OAuth3 Enclave DEVELOPMENT Root CA - not Intel")
            OrganizationName("OAuth3 Enclave development")
        }
        let pckName = try DistinguishedName {
            CommonName("OAuth3 Enclave DEVELOPMENT PCK Certificate")
            OrganizationName("OAuth3 Enclave development")
        }
        let notBefore = Date(timeIntervalSince1970: 1_704_067_200)  // 2024-01-01
        let notAfter = Date(timeIntervalSince1970: 2_524_607_999)  // 2049-12-31
        let rootCertificate = try Certificate(
            version: .v3, serialNumber: .init(bytes: [1]), publicKey: .init(Self.rootKey.publicKey), notValidBefore: notBefore,
            notValidAfter: notAfter, issuer: rootName, subject: rootName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 1))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(Self.rootKey.publicKey))
            },
            issuerPrivateKey: .init(Self.rootKey))
        let pckCertificate = try Certificate(
            version: .v3, serialNumber: .init(bytes: Array(Self.derive(seed, "pck-serial").prefix(16))), publicKey: .init(pckKey.publicKey),
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: rootName, subject: pckName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, nonRepudiation: true))
                AuthorityKeyIdentifier(keyIdentifier: try rootCertificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(Self.rootKey))
        chainPEM = try pckCertificate.serializeAsPEM().pemString + "\n" + rootCertificate.serializeAsPEM().pemString + "\n"
    }

    /// HKDF-SHA256 of the seed for one purpose.
    static func derive(_ seed: [UInt8], _ label: String) -> Data {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: seed), salt: Data("oauth3-dev-guest-agent/v1".utf8), info: Data(label.utf8), outputByteCount: 32)
            .withUnsafeBytes { Data($0) }
    }

    /// `GetKey`: a key for this application, deterministic in the seed, path and purpose.
    public func key(path: String, purpose: String) -> [UInt8] {
        Array(Self.derive(seed, "getkey\u{0}\(path)\u{0}\(purpose)"))
    }

    /// The RTMR3 events of this application, as dstack's agent logs them.
    public var runtimeEvents: [EventLogEntry] {
        let keyProvider = Array(#"{"name":"development","id":"\#(Self.rootKeySHA256.prefix(16))"}"#.utf8)
        let events: [(String, [UInt8])] = [("system-preparing", []), ("app-id", appID), ("compose-hash", composeHash), ("instance-id", instanceID),
                ("boot-mr-done", []), ("key-provider", keyProvider), ("system-ready", [])] + applicationEvents.map { ($0.name, $0.payload) }
        return events.map { name, payload in
            EventLogEntry(imr: 3, eventType: EventLog.runtimeEventType, digest: EventLog.runtimeDigest(name: name, payload: payload).hexString,
                          event: name, eventPayload: payload.hexString)
        }
    }

    /// A TDX v4 quote over `reportData`, with the event log that replays to its RTMRs.
    public func quote(reportData: [UInt8]) throws -> QuoteReply {
        let events = runtimeEvents
        let rtmrs = try EventLog.replay(events)
        var body = [UInt8](repeating: 0, count: 16)  // tee_tcb_svn
        body += Array(SHA384.hash(data: Data("oauth3 development mr_seam".utf8)))
        body += [UInt8](repeating: 0, count: 48)  // mr_signer_seam
        body += [UInt8](repeating: 0, count: 8)  // seam_attributes
        body += [0, 0, 0, 16, 0, 0, 0, 0]  // td_attributes: not a debug TD
        body += [0xE7, 0x02, 0x06, 0, 0, 0, 0, 0]  // xfam
        body += Array(SHA384.hash(data: Data("oauth3 development mr_td".utf8)))
        body += [UInt8](repeating: 0, count: 48 * 3)  // mr_config_id, mr_owner, mr_owner_config
        for rtmr in rtmrs { body += rtmr }
        body += reportData + [UInt8](repeating: 0, count: max(0, 64 - reportData.count))

        var header: [UInt8] = [4, 0, 2, 0, 0x81, 0, 0, 0, 0, 0, 0, 0]  // version 4, ECDSA P-256, TDX, qe/pce svn 0
        header += [0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9, 0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07]  // Intel's QE vendor id
        header += [UInt8](repeating: 0, count: 20)
        let signed = header + body
        let quoteSignature = try attestationKey.signature(for: Data(signed)).rawRepresentation

        let authData = Array(0..<32).map(UInt8.init)
        let attestationPublic = Array(attestationKey.publicKey.rawRepresentation)
        var qeReport = [UInt8](repeating: 0, count: 384)
        qeReport.replaceSubrange(64..<96, with: Array(SHA256.hash(data: Data("oauth3 development QE mr_enclave".utf8))))
        qeReport.replaceSubrange(128..<160, with: Array(SHA256.hash(data: Data("oauth3 development QE mr_signer".utf8))))
        qeReport.replaceSubrange(320..<352, with: Array(SHA256.hash(data: Data(attestationPublic + authData))))
        let qeSignature = try pckKey.signature(for: Data(qeReport)).rawRepresentation

        let pem = Array(chainPEM.utf8)
        var inner = le16(5) + le32(UInt32(pem.count)) + pem
        inner = qeReport + Array(qeSignature) + le16(UInt16(authData.count)) + authData + inner
        let certification = le16(6) + le32(UInt32(inner.count)) + inner
        let signatureData = Array(quoteSignature) + attestationPublic + certification
        let quote = signed + le32(UInt32(signatureData.count)) + signatureData
        let log = String(decoding: try JSONEncoder().encode(events), as: UTF8.self)
        return QuoteReply(quote: quote, eventLogJSON: log)
    }
}

private func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
private func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }

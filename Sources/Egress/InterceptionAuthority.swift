import Crypto
import Foundation
import NIOSSL
import SkillManifest
import SwiftASN1
import Synchronization
import X509

/// One job's certificate authority, for terminating the job's TLS inside the daemon when the job holds
/// bound secrets.
///
/// A P-256 key made for the job and never written anywhere: it lives in this value, in the daemon's
/// memory, and dies with the job. Only that job's Deno trusts the certificate (its PEM goes into the
/// job's directory and Deno's `DENO_CERT`). The certificate is name-constrained to the job's declared
/// hosts, so even inside that one Deno it vouches for nothing else. Leaf certificates are minted on
/// demand, one per host the job connects to, all over one leaf key.
public final class InterceptionAuthority: Sendable {
    private let key: P256.Signing.PrivateKey
    private let leafKey: P256.Signing.PrivateKey
    private let name: DistinguishedName
    /// The CA certificate, PEM: what the job's Deno is told to trust.
    public let certificatePEM: String
    private let certificate: Certificate
    private let contexts = Mutex([String: NIOSSLContext]())

    /// Makes a fresh authority for a job that declared `hosts`.
    /// - Parameter now: the start of the certificates' validity (an hour earlier, against clock skew).
    public init(hosts: [HostPattern], now: Date = Date()) throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CommonName("OAuth3 Enclave per-job interception CA")
            OrganizationName("OAuth3 Enclave")
        }
        self.key = key
        self.name = name
        leafKey = P256.Signing.PrivateKey()
        // No declared host would mean no constraint at all: constrain to a name that cannot exist instead.
        let permitted = hosts.isEmpty ? ["invalid"] : Set(hosts.map(\.host)).sorted()
        certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: now - 3600,
            notValidAfter: now + 2 * 86400, issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
                Critical(NameConstraints(permittedDNSDomains: permitted))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        certificatePEM = try certificate.serializeAsPEM().pemString + "\n"
    }

    /// The TLS server context the proxy presents to the job for `host`: a leaf for that name, signed by
    /// this authority, offering HTTP/1.1 alone (the proxy's parser speaks nothing else).
    public func serverContext(for host: String) throws -> NIOSSLContext {
        if let known = contexts.withLock({ $0[host] }) { return known }
        let now = Date()
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(leafKey.publicKey), notValidBefore: now - 3600,
            notValidAfter: now + 2 * 86400, issuer: name,
            subject: try DistinguishedName { CommonName(host) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName(host)])
                AuthorityKeyIdentifier(keyIdentifier: try certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(key))
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(leaf.serializeAsPEM().pemString.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(leafKey.pemRepresentation.utf8), format: .pem)))
        configuration.applicationProtocols = ["http/1.1"]
        configuration.minimumTLSVersion = .tlsv12
        let context = try NIOSSLContext(configuration: configuration)
        contexts.withLock { $0[host] = context }
        return context
    }
}

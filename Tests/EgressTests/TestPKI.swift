import Crypto
import Foundation
import SwiftASN1
import X509

/// Certificates for the bound-secret tests, made in code: a CA and leaves it signs, written as PEM files
/// a TLS host (and the proxy's extra trust) can load.
struct TestPKI {
    let key: P256.Signing.PrivateKey
    let certificate: Certificate
    let name: DistinguishedName

    init(_ commonName: String) throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(commonName) }
        self.key = key
        self.name = name
        let now = Date()
        certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: now - 3600, notValidAfter: now + 86400,
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key))
    }

    /// Writes this CA's certificate to `directory`; its path.
    func writeCertificate(to directory: String) throws -> String {
        let path = directory + "/ca-\(UUID().uuidString.prefix(8)).pem"
        try certificate.serializeAsPEM().pemString.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A server certificate for `names`, signed by this CA, and its key, written to `directory`.
    func writeLeaf(for names: [String], to directory: String) throws -> (certificate: String, key: String) {
        let leafKey = P256.Signing.PrivateKey()
        let now = Date()
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(leafKey.publicKey), notValidBefore: now - 3600, notValidAfter: now + 86400,
            issuer: name, subject: try DistinguishedName { CommonName(names[0]) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names.map { .dnsName($0) })
                AuthorityKeyIdentifier(keyIdentifier: try certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(key))
        let stem = directory + "/leaf-\(UUID().uuidString.prefix(8))"
        try (leaf.serializeAsPEM().pemString + "\n").write(toFile: stem + ".pem", atomically: true, encoding: .utf8)
        try leafKey.pemRepresentation.write(toFile: stem + ".key", atomically: true, encoding: .utf8)
        return (stem + ".pem", stem + ".key")
    }
}

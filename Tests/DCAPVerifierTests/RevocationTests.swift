import Crypto
import DCAPVerifier
import Foundation
import SwiftASN1
import Testing
import X509

/// CRLs: the real ones from the collateral, and one made here that revokes a certificate.
@Suite("Certificate revocation lists")
struct RevocationTests {
    static let time = Date(timeIntervalSince1970: 1_750_330_147)

    func collateral() throws -> Collateral { try Collateral.decode(try Vectors.data("dcap/tdx_quote_collateral.json")) }
    func chain() throws -> [Certificate] {
        let quote = try Quote.parse(try Vectors.data("dcap/tdx_quote.bin"))
        return try PEMDocument.parseMultiple(pemString: quote.signature.pckChainPEM).map { try Certificate(pemDocument: $0) }
    }

    @Test("The real root and PCK CRLs: signed by the root and the PCK CA, current in the window, not revoking this platform")
    func realCRLs() throws {
        let chain = try chain()
        let collateral = try collateral()
        let rootCRL = try RevocationList(der: bytes(fromHex: collateral.rootCACRL)!)
        let pckCRL = try RevocationList(der: bytes(fromHex: collateral.pckCRL)!)
        #expect(rootCRL.isSigned(by: chain[2]) && !rootCRL.isSigned(by: chain[1]))
        #expect(pckCRL.isSigned(by: chain[1]) && !pckCRL.isSigned(by: chain[2]))
        #expect(rootCRL.isCurrent(at: Self.time) && pckCRL.isCurrent(at: Self.time))
        #expect(!pckCRL.isCurrent(at: Date(timeIntervalSince1970: 1_752_919_234 + 10 * 86_400 * 365)))
        #expect(!pckCRL.revokes(chain[0]) && !rootCRL.revokes(chain[1]))
        #expect(!pckCRL.revokedSerials.isEmpty)
    }

    @Test("A certificate whose serial the real PCK CRL lists is revoked")
    func revokedSerialFromRealCRL() throws {
        let pckCRL = try RevocationList(der: bytes(fromHex: try collateral().pckCRL)!)
        let revokedSerial = try #require(pckCRL.revokedSerials.first)
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("revoked test PCK") }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(bytes: revokedSerial), publicKey: .init(key.publicKey), notValidBefore: Self.time - 86_400,
            notValidAfter: Self.time + 86_400, issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: .init(),
            issuerPrivateKey: .init(key))
        #expect(pckCRL.revokes(certificate))
    }

    @Test("A CRL built here: signed by its CA only, and revoking exactly the listed certificate")
    func builtCRL() throws {
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("Test PCK CA") }
        func leaf(_ serial: UInt8) throws -> Certificate {
            try Certificate(
                version: .v3, serialNumber: .init(bytes: [serial]), publicKey: .init(P256.Signing.PrivateKey().publicKey), notValidBefore: Self.time - 86_400,
                notValidAfter: Self.time + 86_400, issuer: caName, subject: try DistinguishedName { CommonName("leaf \(serial)") },
                signatureAlgorithm: .ecdsaWithSHA256, extensions: .init(), issuerPrivateKey: .init(caKey))
        }
        let ca = try Certificate(
            version: .v3, serialNumber: .init(bytes: [9]), publicKey: .init(caKey.publicKey), notValidBefore: Self.time - 86_400,
            notValidAfter: Self.time + 86_400, issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256, extensions: .init(),
            issuerPrivateKey: .init(caKey))
        let crl = try RevocationList(der: try Self.makeCRL(issuer: caName, key: caKey, revoked: [[7]], thisUpdate: Self.time - 3600, nextUpdate: Self.time + 3600))
        #expect(crl.isSigned(by: ca) && crl.isCurrent(at: Self.time) && !crl.isCurrent(at: Self.time + 7200))
        let (seven, eight) = (try leaf(7), try leaf(8))
        #expect(crl.revokes(seven) && !crl.revokes(eight))
        let other = P256.Signing.PrivateKey()
        let impostor = try RevocationList(der: try Self.makeCRL(issuer: caName, key: other, revoked: [], thisUpdate: Self.time - 3600, nextUpdate: Self.time + 3600))
        #expect(!impostor.isSigned(by: ca))
    }

    /// DER of a v2 CRL signed with ECDSA P-256/SHA-256.
    static func makeCRL(issuer: DistinguishedName, key: P256.Signing.PrivateKey, revoked: [[UInt8]], thisUpdate: Date, nextUpdate: Date) throws -> [UInt8] {
        func utc(_ date: Date) throws -> UTCTime {
            let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
            return try UTCTime(year: c.year!, month: c.month!, day: c.day!, hours: c.hour!, minutes: c.minute!, seconds: c.second!)
        }
        let algorithm: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 2]
        var tbs = DER.Serializer()
        try tbs.appendConstructedNode(identifier: .sequence) { s in
            try s.serialize(1)
            try s.appendConstructedNode(identifier: .sequence) { try $0.serialize(algorithm) }
            try s.serialize(issuer)
            try s.serialize(try utc(thisUpdate))
            try s.serialize(try utc(nextUpdate))
            if !revoked.isEmpty {
                try s.appendConstructedNode(identifier: .sequence) { list in
                    for serial in revoked {
                        try list.appendConstructedNode(identifier: .sequence) { entry in
                            entry.appendPrimitiveNode(identifier: .integer) { $0.append(contentsOf: serial) }
                            try entry.serialize(try utc(thisUpdate))
                        }
                    }
                }
            }
        }
        let signature = try key.signature(for: tbs.serializedBytes).derRepresentation
        var crl = DER.Serializer()
        try crl.appendConstructedNode(identifier: .sequence) { s in
            s.serializeRawBytes(tbs.serializedBytes)
            try s.appendConstructedNode(identifier: .sequence) { try $0.serialize(algorithm) }
            try s.serialize(ASN1BitString(bytes: ArraySlice(signature)))
        }
        return crl.serializedBytes
    }
}

import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate revocation list (RFC 5280 §5), parsed just enough to check a certificate: its issuer's
/// signature over the TBS bytes, its validity window, and its revoked serial numbers.
public struct RevocationList: Sendable, Hashable {
    public let thisUpdate: Date
    public let nextUpdate: Date?
    /// Revoked serial numbers, big-endian without leading zeros.
    public let revokedSerials: Set<[UInt8]>
    let tbsBytes: [UInt8]
    let signature: [UInt8]

    public init(der: [UInt8]) throws(QuoteParseError) {
        do {
            let root = try DER.parse(der)
            guard root.identifier == .sequence, case .constructed(let parts) = root.content else { throw QuoteParseError("CRL is not a SEQUENCE") }
            let top = Array(parts)
            guard top.count == 3 else { throw QuoteParseError("CRL has \(top.count) parts, not three") }
            let (tbs, outerAlgorithm, signatureNode) = (top[0], top[1], top[2])
            tbsBytes = Array(tbs.encodedBytes)
            let bits = try ASN1BitString(derEncoded: signatureNode)
            signature = Array(bits.bytes)
            guard tbs.identifier == .sequence, case .constructed(let fields) = tbs.content else { throw QuoteParseError("TBSCertList is not a SEQUENCE") }
            var nodes = Array(fields)
            if let first = nodes.first, first.identifier == .integer { nodes.removeFirst() }  // version
            guard nodes.count >= 3 else { throw QuoteParseError("TBSCertList is too short") }
            // RFC 5280 §5.1.1.2: the outer algorithm must be the signed one; Intel signs with ECDSA P-256/SHA-256.
            guard outerAlgorithm.encodedBytes.elementsEqual(nodes[0].encodedBytes),
                case .constructed(let algorithm) = outerAlgorithm.content,
                let oid = algorithm.first(where: { _ in true }), oid.identifier == .objectIdentifier,
                try ASN1ObjectIdentifier(derEncoded: oid) == Self.ecdsaWithSHA256
            else { throw QuoteParseError("CRL signature algorithm is not ecdsa-with-SHA256 in both places") }
            thisUpdate = try Self.time(nodes[2])
            var index = 3
            var next: Date?
            if index < nodes.count, nodes[index].identifier == .utcTime || nodes[index].identifier == .generalizedTime {
                next = try Self.time(nodes[index])
                index += 1
            }
            nextUpdate = next
            var serials: Set<[UInt8]> = []
            if index < nodes.count, nodes[index].identifier == .sequence {
                // A revoked entry we cannot read could be the one that names our certificate: refuse the list.
                guard case .constructed(let entries) = nodes[index].content else { throw QuoteParseError("revokedCertificates is not a SEQUENCE") }
                for (number, entry) in entries.enumerated() {
                    guard entry.identifier == .sequence, case .constructed(let entryFields) = entry.content,
                        let serial = entryFields.first(where: { _ in true }), serial.identifier == .integer,
                        case .primitive(let bytes) = serial.content, !bytes.isEmpty
                    else { throw QuoteParseError("revoked entry \(number) has no serial number") }
                    serials.insert(Array(bytes.drop { $0 == 0 }))
                }
            }
            revokedSerials = serials
        } catch let error as QuoteParseError {
            throw error
        } catch {
            throw QuoteParseError("CRL: \(error)")
        }
    }

    static let ecdsaWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 2]

    private static func time(_ node: ASN1Node) throws -> Date {
        if node.identifier == .utcTime {
            let time = try UTCTime(derEncoded: node)
            return Self.date(time.year, time.month, time.day, time.hours, time.minutes, time.seconds)
        }
        let time = try GeneralizedTime(derEncoded: node)
        return Self.date(time.year, time.month, time.day, time.hours, time.minutes, time.seconds)
    }

    private static func date(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int) -> Date {
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour, components.minute, components.second) = (year, month, day, hour, minute, second)
        components.timeZone = TimeZone(identifier: "UTC")
        return Calendar(identifier: .gregorian).date(from: components) ?? .distantPast
    }

    /// Whether `issuer` signed this list (ECDSA P-256 with SHA-256).
    public func isSigned(by issuer: Certificate) -> Bool {
        guard let key = P256.Signing.PublicKey(issuer.publicKey), let signature = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
        return key.isValidSignature(signature, for: Data(tbsBytes))
    }

    /// Whether the list is current at `time`.
    public func isCurrent(at time: Date) -> Bool {
        thisUpdate <= time && (nextUpdate.map { time <= $0 } ?? true)
    }

    public func revokes(_ certificate: Certificate) -> Bool {
        revokedSerials.contains(Array(certificate.serialNumber.bytes.drop { $0 == 0 }))
    }
}

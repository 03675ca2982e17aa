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
            guard case .constructed(let parts) = root.content else { throw QuoteParseError("CRL is not a SEQUENCE") }
            var top = parts.makeIterator()
            guard let tbs = top.next(), let _ = top.next(), let signatureNode = top.next() else { throw QuoteParseError("CRL has not three parts") }
            tbsBytes = Array(tbs.encodedBytes)
            let bits = try ASN1BitString(derEncoded: signatureNode)
            signature = Array(bits.bytes)
            guard case .constructed(let fields) = tbs.content else { throw QuoteParseError("TBSCertList is not a SEQUENCE") }
            var nodes = Array(fields)
            if let first = nodes.first, first.identifier == .integer { nodes.removeFirst() }  // version
            guard nodes.count >= 3 else { throw QuoteParseError("TBSCertList is too short") }
            thisUpdate = try Self.time(nodes[2])
            var index = 3
            var next: Date?
            if index < nodes.count, nodes[index].identifier == .utcTime || nodes[index].identifier == .generalizedTime {
                next = try Self.time(nodes[index])
                index += 1
            }
            nextUpdate = next
            var serials: Set<[UInt8]> = []
            if index < nodes.count, nodes[index].identifier == .sequence, case .constructed(let entries) = nodes[index].content {
                for entry in entries {
                    guard case .constructed(let entryFields) = entry.content, let serial = entryFields.first(where: { _ in true }),
                        case .primitive(let bytes) = serial.content
                    else { continue }
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

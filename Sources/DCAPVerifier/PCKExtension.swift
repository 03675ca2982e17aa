import Foundation
import SwiftASN1
import X509

/// The Intel SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1): the platform's TCB
/// (16 component SVNs, PCESVN, CPUSVN), PCE ID and FMSPC, which select the TCB level.
public struct PCKExtension: Sendable, Hashable {
    public let componentSVNs: [Int]
    public let pceSVN: Int
    public let cpuSVN: [UInt8]
    public let pceID: [UInt8]
    public let fmspc: [UInt8]

    static let oid: ASN1ObjectIdentifier = [1, 2, 840, 113_741, 1, 13, 1]

    public init(certificate: Certificate) throws(QuoteParseError) {
        guard let extensionValue = certificate.extensions.first(where: { $0.oid == Self.oid })?.value else {
            throw QuoteParseError("the PCK certificate has no SGX extension")
        }
        do {
            var values: [ASN1ObjectIdentifier: ASN1Node] = [:]
            func collect(_ node: ASN1Node) throws {
                guard case .constructed(let pairs) = node.content else { return }
                for pair in pairs {
                    guard case .constructed(let items) = pair.content else { continue }
                    var iterator = items.makeIterator()
                    guard let oidNode = iterator.next(), let value = iterator.next() else { continue }
                    let oid = try ASN1ObjectIdentifier(derEncoded: oidNode)
                    values[oid] = value
                    if value.identifier == .sequence { try collect(value) }
                }
            }
            try collect(try DER.parse(Array(extensionValue)))
            func integer(_ arcs: ASN1ObjectIdentifier) throws -> Int {
                guard let node = values[arcs] else { throw QuoteParseError("SGX extension: missing \(arcs)") }
                return try Int(derEncoded: node)
            }
            func octets(_ arcs: ASN1ObjectIdentifier) throws -> [UInt8] {
                guard let node = values[arcs] else { throw QuoteParseError("SGX extension: missing \(arcs)") }
                return Array(try ASN1OctetString(derEncoded: node).bytes)
            }
            let base: [UInt] = [1, 2, 840, 113_741, 1, 13, 1]
            componentSVNs = try (1...16).map { try integer(ASN1ObjectIdentifier(elements: base + [2, UInt($0)])) }
            pceSVN = try integer(ASN1ObjectIdentifier(elements: base + [2, 17]))
            cpuSVN = try octets(ASN1ObjectIdentifier(elements: base + [2, 18]))
            pceID = try octets(ASN1ObjectIdentifier(elements: base + [3]))
            fmspc = try octets(ASN1ObjectIdentifier(elements: base + [4]))
        } catch let error as QuoteParseError {
            throw error
        } catch {
            throw QuoteParseError("SGX extension: \(error)")
        }
    }
}

import DCAPVerifier
import Foundation
import TestSupport
import Testing

/// Every signed region of a quote and its collateral, tampered with one at a time, fails with the check that
/// covers it; arbitrary damage to the collateral is a failed verification, never a crash.
@Suite("Tampered quotes and collateral")
struct TamperTests {
    static let now = Date(timeIntervalSince1970: 1_750_330_147)

    func verify(quote: [UInt8]? = nil, collateral: (inout Collateral) -> Void = { _ in }) async throws -> DCAPReport {
        var material = try Collateral.decode(try Vectors.data("dcap/tdx_quote_collateral.json"))
        collateral(&material)
        return await QuoteVerifier(roots: [.intel]).verify(
            quote: try Quote.parse(quote ?? Vectors.data("dcap/tdx_quote.bin")), collateral: material, at: Self.now)
    }

    func failed(_ report: DCAPReport) -> Set<String> { Set(report.checks.filter { !$0.passed }.map(\.name)) }

    @Test("Header, TD report, attestation key, QE report, QE auth data: each caught by its own check")
    func quoteRegions() async throws {
        let raw = try Vectors.data("dcap/tdx_quote.bin")
        // Offsets in the v4 layout: header 0–48, TD report 48–632, attestation key 700–764, QE report 770–1154,
        // QE auth data after the QE report's signature (its length at 1218).
        let regions: [(String, Int, Set<String>)] = [
            ("header", 10, ["quote_signature"]),
            ("TD report (MRTD)", 190, ["quote_signature"]),
            ("attestation key", 710, ["quote_signature", "qe_report_binding"]),
            ("QE report", 790, ["qe_report_signature"]),
            ("QE auth data", 1222, ["qe_report_binding"]),
        ]
        for (region, offset, expected) in regions {
            var mutated = raw
            mutated[offset] ^= 0x01
            let report = try await verify(quote: mutated)
            #expect(!report.passed, "\(region)")
            #expect(expected.isSubset(of: failed(report)), "\(region): \(failed(report))")
        }
    }

    @Test("TCB info, QE identity, their signatures and the CRLs: a changed byte fails that document's check")
    func collateralRegions() async throws {
        func flip(_ text: String, at fraction: Double) -> String {
            var bytes = Array(text.utf8)
            let index = Int(Double(bytes.count) * fraction)
            bytes[index] = bytes[index] == UInt8(ascii: "1") ? UInt8(ascii: "2") : UInt8(ascii: "1")
            return String(decoding: bytes, as: UTF8.self)
        }
        // A number inside the TCB info's levels, or the QE identity's, changes what was signed.
        let base = try Collateral.decode(try Vectors.data("dcap/tdx_quote_collateral.json"))
        #expect(base.tcbInfo.contains("\"pcesvn\":11") && base.qeIdentity.contains("\"isvsvn\":4"))
        let tcbLevel = try await verify { $0.tcbInfo = $0.tcbInfo.replacingOccurrences(of: "\"pcesvn\":11", with: "\"pcesvn\":12") }
        #expect(failed(tcbLevel).contains("tcb_info_signature"), "\(failed(tcbLevel))")
        let qeISVSVN = try await verify { $0.qeIdentity = $0.qeIdentity.replacingOccurrences(of: "\"isvsvn\":4", with: "\"isvsvn\":5") }
        #expect(failed(qeISVSVN).contains("qe_identity_signature"), "\(failed(qeISVSVN))")
        let tcbSignature = try await verify { $0.tcbInfoSignature = flip($0.tcbInfoSignature, at: 0.5) }
        #expect(failed(tcbSignature).contains("tcb_info_signature"))
        let qeSignature = try await verify { $0.qeIdentitySignature = flip($0.qeIdentitySignature, at: 0.5) }
        #expect(failed(qeSignature).contains("qe_identity_signature"))
        // In the CRLs' hex DER, near the end, is the signature.
        let pckCRL = try await verify { $0.pckCRL = flip($0.pckCRL, at: 0.9) }
        #expect(!pckCRL.passed && !failed(pckCRL).isDisjoint(with: ["pck_crl", "crls"]), "\(failed(pckCRL))")
        let rootCRL = try await verify { $0.rootCACRL = flip($0.rootCACRL, at: 0.9) }
        #expect(!rootCRL.passed && !failed(rootCRL).isDisjoint(with: ["root_crl", "crls"]), "\(failed(rootCRL))")
    }

    @Test("Any hex digit of either CRL changed: the verification fails (sampled through the PCK CRL, every digit of the root CRL)")
    func everyCRLDigit() async throws {
        let base = try Collateral.decode(try Vectors.data("dcap/tdx_quote_collateral.json"))
        for (field, stride) in [(\Collateral.rootCACRL, 1), (\Collateral.pckCRL, 11)] as [(WritableKeyPath<Collateral, String>, Int)] {
            var digits = Array(base[keyPath: field].utf8)
            for index in Swift.stride(from: 0, to: digits.count, by: stride) {
                let original = digits[index]
                digits[index] = original == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
                let report = try await verify { $0[keyPath: field] = String(decoding: digits, as: UTF8.self) }
                #expect(!report.passed, "\(field) digit \(index) changed, yet verified")
                digits[index] = original
            }
        }
    }

    @Test("The root CA CRL (validly signed, current) cannot stand in for the PCK CRL")
    func rootCRLAsPCKCRL() async throws {
        let report = try await verify { $0.pckCRL = $0.rootCACRL }
        #expect(!report.passed && failed(report).contains("pck_crl"), "\(failed(report))")
    }

    @Test("Collateral from another platform: its FMSPC and signer do not fit this quote")
    func foreignCollateral() async throws {
        let foreign = try Collateral.decode(try Vectors.data("dcap/tdx_quote_v5_outdated_collateral.json"))
        let report = try await verify { $0 = foreign }
        #expect(!report.passed)
    }

    @Test("Truncated collateral: every prefix of the file is refused by the decoder, every cut field by the verifier")
    func truncated() async throws {
        let json = try Vectors.data("dcap/tdx_quote_collateral.json")
        var prefixes = 0
        for length in stride(from: 0, to: json.count, by: max(1, json.count / 150)) {
            #expect(throws: (any Error).self, "a \(length)-byte prefix decoded") { try Collateral.decode(Array(json.prefix(length))) }
            prefixes += 1
        }
        #expect(prefixes >= 150)
        // A field cut short inside a file that still decodes: each of these reaches the verifier, which refuses it.
        let base = try Collateral.decode(json)
        var verified = 0
        for field in Self.signedFields {
            let text = base[keyPath: field]
            for fraction in [0.0, 0.1, 0.5, 0.9, 0.99] {
                var material = base
                material[keyPath: field] = String(text.prefix(Int(Double(text.count) * fraction)))
                #expect(!(try await verify { $0 = material }).passed, "\(field) cut at \(fraction) verified")
                verified += 1
            }
        }
        #expect(verified == Self.signedFields.count * 5)
    }

    /// The collateral fields every byte of which is signed or strictly parsed.
    static var signedFields: [WritableKeyPath<Collateral, String>] { [\.rootCACRL, \.pckCRL, \.tcbInfo, \.tcbInfoSignature, \.qeIdentity, \.qeIdentitySignature] }

    @Test("Mutated and swapped collateral is a failed verification, never a crash (seeded: the seed is in every message)")
    func fuzz() async throws {
        let base = try Collateral.decode(try Vectors.data("dcap/tdx_quote_collateral.json"))
        let fields: [WritableKeyPath<Collateral, String>] = [
            \.pckCRLIssuerChain, \.rootCACRL, \.pckCRL, \.tcbInfoIssuerChain, \.tcbInfo, \.tcbInfoSignature,
            \.qeIdentityIssuerChain, \.qeIdentity, \.qeIdentitySignature,
        ]
        var generator = SeededRandom()
        var changedSigned = 0
        for round in 0..<600 {
            var material = base
            let field = fields[round % fields.count]
            var bytes = Array(material[keyPath: field].utf8)
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator)))
            case 1: bytes = []
            case 2: material[keyPath: field] = base[keyPath: fields.randomElement(using: &generator)!]; bytes = Array(material[keyPath: field].utf8)
            default:
                for _ in 0..<Int.random(in: 1...6, using: &generator) where !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0x20...0x7e, using: &generator)
                }
            }
            material[keyPath: field] = String(decoding: bytes, as: UTF8.self)
            let report = try await verify { $0 = material }
            // Every byte of the signed fields is signed or parsed strictly, so damage that changes one must
            // fail (a hex digit changing case changes nothing). The issuer chains may carry damage we never
            // read: the copy of the root at their end (we use the pinned root) and the PCK CRL's chain (the
            // quote's own chain holds the PCK CA that signs that CRL).
            let unchanged = Self.signedFields.allSatisfy { material[keyPath: $0].lowercased() == base[keyPath: $0].lowercased() }
            if !unchanged { changedSigned += 1 }
            #expect(!report.passed || unchanged, "round \(round): \(field) damaged yet verified (\(generator))")
        }
        // Most rounds damaged a signed field: the assertion that matters ran on them.
        #expect(changedSigned >= 300, "only \(changedSigned) of 600 rounds changed a signed field (\(generator))")
    }
}

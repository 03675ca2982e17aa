import DCAPVerifier
import Foundation
import Testing

@Suite("Quote signatures to a trusted root")
struct SignatureTests {
    static let inWindow = Date(timeIntervalSince1970: 1_750_330_147)

    @Test("The real TDX and SGX quotes verify to Intel's root")
    func intel() async throws {
        let quote = try Quote.parse(try Vectors.data("dcap/tdx_quote.bin"))
        let checks = await QuoteVerifier(roots: [.intel]).verifySignatures(of: quote, at: Self.inWindow)
        #expect(checks.map(\.name) == ["quote_signature", "qe_report_binding", "qe_report_signature", "pck_chain"])
        #expect(checks.allSatisfy { $0.passed }, "\(checks.filter { !$0.passed })")
        let sgx = try Quote.parse(try Vectors.data("dcap/sgx_quote.bin"))
        let sgxChecks = await QuoteVerifier(roots: [.intel]).verifySignatures(of: sgx, at: Date(timeIntervalSince1970: 1_750_331_571))
        #expect(sgxChecks.map(\.name) == ["quote_signature", "qe_report_binding", "qe_report_signature", "pck_chain"])
        #expect(sgxChecks.allSatisfy { $0.passed }, "\(sgxChecks.filter { !$0.passed })")
    }

    @Test("A flipped byte in the TD report breaks the quote signature; in the QE report, its signature")
    func flippedBytes() async throws {
        var raw = try Vectors.data("dcap/tdx_quote.bin")
        raw[600] ^= 1
        var checks = await QuoteVerifier(roots: [.intel]).verifySignatures(of: try Quote.parse(raw), at: Self.inWindow)
        #expect(checks.first { $0.name == "quote_signature" }?.passed == false)
        raw = try Vectors.data("dcap/tdx_quote.bin")
        raw[770 + 20] ^= 1  // inside the QE report
        checks = await QuoteVerifier(roots: [.intel]).verifySignatures(of: try Quote.parse(raw), at: Self.inWindow)
        #expect(checks.first { $0.name == "qe_report_signature" }?.passed == false)
        #expect(checks.first { $0.name == "quote_signature" }?.passed == true)
    }

    @Test("Without Intel's root (the development root only), a real quote's chain does not verify")
    func wrongRoot() async throws {
        let quote = try Quote.parse(try Vectors.data("dcap/tdx_quote.bin"))
        let checks = await QuoteVerifier(roots: [.development]).verifySignatures(of: quote, at: Self.inWindow)
        #expect(checks.first { $0.name == "pck_chain" }?.passed == false)
    }
}

import DCAPVerifier
import Foundation
import Testing

/// The documented verdicts of `Tests/Vectors/README.md`.
@Suite("DCAP verdicts on the real vectors")
struct VectorVerdictTests {
    func report(_ quote: String, _ collateral: String, at seconds: TimeInterval, acceptable: Set<String> = QuoteVerifier.defaultAcceptableStatuses, mutate: (inout [UInt8]) -> Void = { _ in }) async throws -> DCAPReport {
        var raw = try Vectors.data(quote)
        mutate(&raw)
        return await QuoteVerifier(roots: [.intel]).verify(
            quote: try Quote.parse(raw), collateral: try Collateral.decode(try Vectors.data(collateral)), at: Date(timeIntervalSince1970: seconds), acceptable: acceptable)
    }

    func failures(_ report: DCAPReport) -> [String] { report.checks.filter { !$0.passed }.map(\.name) }

    @Test("TDX v4: UpToDate, no advisories")
    func tdxUpToDate() async throws {
        let report = try await report("dcap/tdx_quote.bin", "dcap/tdx_quote_collateral.json", at: 1_750_330_147)
        #expect(report.tcbStatus == "UpToDate" && report.advisoryIDs.isEmpty)
        #expect(report.passed, "\(report.checks.filter { !$0.passed })")
    }

    @Test("SGX v3: ConfigurationAndSWHardeningNeeded with INTEL-SA-00289 and INTEL-SA-00615; refused by default, accepted when allowed")
    func sgx() async throws {
        let strict = try await report("dcap/sgx_quote.bin", "dcap/sgx_quote_collateral.json", at: 1_750_331_571)
        #expect(strict.tcbStatus == "ConfigurationAndSWHardeningNeeded")
        #expect(Set(strict.advisoryIDs) == ["INTEL-SA-00289", "INTEL-SA-00615"])
        #expect(!strict.passed && failures(strict) == ["tcb_status"])
        let lenient = try await report("dcap/sgx_quote.bin", "dcap/sgx_quote_collateral.json", at: 1_750_331_571, acceptable: ["UpToDate", "ConfigurationAndSWHardeningNeeded"])
        #expect(lenient.passed, "\(lenient.checks.filter { !$0.passed })")
    }

    @Test("TDX v5 (TD 1.5), outdated platform: rejected, no matching TCB level")
    func v5Outdated() async throws {
        let report = try await report("dcap/tdx_quote_v5_outdated.bin", "dcap/tdx_quote_v5_outdated_collateral.json", at: 1_771_413_331)
        #expect(!report.passed && report.tcbStatus == nil)
        #expect(report.checks.first { $0.name == "tcb_level" }?.detail.contains("no TCB level matches") == true, "\(report.checks.filter { !$0.passed })")
    }

    @Test("After the collateral's window: rejected, TCB info expired")
    func expired() async throws {
        let report = try await report("dcap/tdx_quote.bin", "dcap/tdx_quote_collateral.json", at: 1_752_919_234 + 100_000)
        #expect(!report.passed)
        #expect(failures(report).contains("tcb_info_window"), "\(failures(report))")
        #expect(report.checks.first { $0.name == "tcb_info_window" }?.detail.contains("TCB info expired") == true)
    }

    @Test("A flipped byte in the TD report: rejected, quote signature invalid")
    func flipped() async throws {
        let report = try await report("dcap/tdx_quote.bin", "dcap/tdx_quote_collateral.json", at: 1_750_330_147) { $0[600] ^= 1 }
        #expect(!report.passed && failures(report).contains("quote_signature"))
    }
}

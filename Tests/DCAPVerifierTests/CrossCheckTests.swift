import DCAPVerifier
import Foundation
import TestSupport
import Testing

/// Our verdicts against dcap-qvl's (installed by `scripts/setup.sh` from PyPI) on the same inputs.
@Suite("Cross-check with dcap-qvl")
struct CrossCheckTests {
    struct Verdict: Decodable { let status: String?; let advisory_ids: [String]?; let error: String? }

    func dcapQVL(_ quote: String, _ collateral: String, _ now: Int, flip: Int? = nil) async throws -> Verdict {
        let script = Fixture.repository.appendingPathComponent("Tests/dcap/dcap_qvl_verdict.py").path
        let run = try await Fixture.execute(
            "/usr/bin/python3", [script, Vectors.directory.appendingPathComponent(quote).path, Vectors.directory.appendingPathComponent(collateral).path, String(now)] + (flip.map { [String($0)] } ?? []),
            environment: ["PATH": "/usr/bin:/bin", "PYTHONPATH": Fixture.repository.appendingPathComponent(".tools/python").path])
        #expect(run.status == 0, "dcap-qvl is missing? run `make setup`: \(run.err.suffix(500))")
        return try JSONDecoder().decode(Verdict.self, from: Data(run.out.utf8))
    }

    func ours(_ quote: String, _ collateral: String, _ now: Int, flip: Int? = nil) async throws -> DCAPReport {
        var raw = try Vectors.data(quote)
        if let flip { raw[flip] ^= 1 }
        let every: Set<String> = ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"]
        return await QuoteVerifier(roots: [.intel]).verify(
            quote: try Quote.parse(raw), collateral: try Collateral.decode(try Vectors.data(collateral)), at: Date(timeIntervalSince1970: TimeInterval(now)), acceptable: every)
    }

    @Test(
        "Same status and advisories when dcap-qvl accepts; a rejection from both when it rejects",
        arguments: [
            ("dcap/tdx_quote.bin", "dcap/tdx_quote_collateral.json", 1_750_330_147, nil),
            ("dcap/sgx_quote.bin", "dcap/sgx_quote_collateral.json", 1_750_331_571, nil),
            ("dcap/tdx_quote_v5_outdated.bin", "dcap/tdx_quote_v5_outdated_collateral.json", 1_771_413_331, nil),
            ("dcap/tdx_quote.bin", "dcap/tdx_quote_collateral.json", 1_752_919_234 + 100_000, nil),
            ("dcap/tdx_quote.bin", "dcap/tdx_quote_collateral.json", 1_750_330_147, 600),
            ("dcap/tdx_quote.bin", "dcap/tdx_quote_collateral.json", 1_750_330_147, 1000),
            ("dcap/sgx_quote.bin", "dcap/sgx_quote_collateral.json", 1_750_331_571, 100),
        ] as [(String, String, Int, Int?)])
    func sameVerdict(quote: String, collateral: String, now: Int, flip: Int?) async throws {
        let theirs = try await dcapQVL(quote, collateral, now, flip: flip)
        let report = try await ours(quote, collateral, now, flip: flip)
        if let status = theirs.status {
            #expect(report.passed, "\(report.checks.filter { !$0.passed })")
            #expect(report.tcbStatus == status)
            #expect(Set(report.advisoryIDs) == Set(theirs.advisory_ids ?? []))
        } else {
            #expect(!report.passed, "dcap-qvl rejects (\(theirs.error ?? "")), we accepted")
        }
    }
}

import DCAPVerifier
import Foundation
import TestSupport
import Testing

/// Our verdicts against dcap-qvl's (installed by `scripts/setup.sh` from PyPI) on the same inputs.
@Suite("Cross-check with dcap-qvl")
struct CrossCheckTests {
    struct Verdict: Decodable { let status: String?; let advisory_ids: [String]?; let rejected: String? }

    func dcapQVL(_ quote: String, _ collateral: String, _ now: Int, flip: Int? = nil) async throws -> Verdict {
        let script = Fixture.repository.appendingPathComponent("Tests/dcap/dcap_qvl_verdict.py").path
        let run = try await Fixture.execute(
            "/usr/bin/python3", [script, Vectors.directory.appendingPathComponent(quote).path, Vectors.directory.appendingPathComponent(collateral).path, String(now)] + (flip.map { [String($0)] } ?? []),
            environment: ["PATH": "/usr/bin:/bin", "PYTHONPATH": Fixture.repository.appendingPathComponent(".tools/python").path])
        try #require(run.status == 0, "dcap-qvl gave no verdict (missing? run `make setup`): \(run.err.suffix(500))")
        return try JSONDecoder().decode(Verdict.self, from: Data(run.out.utf8))
    }

    func ours(_ quote: String, _ collateral: String, _ now: Int, flip: Int? = nil) async throws -> DCAPReport {
        var raw = try Vectors.data(quote)
        if let flip { raw[flip] ^= 1 }
        let every: Set<String> = ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"]
        return await QuoteVerifier(roots: [.intel]).verify(
            quote: try Quote.parse(raw), collateral: try Collateral.decode(try Vectors.data(collateral)), at: Date(timeIntervalSince1970: TimeInterval(now)), acceptable: every)
    }

    /// Each case, with what both verifiers must say: dcap-qvl's status, or its rejection reason together
    /// with the check of ours that fails for the same cause (a rejection for another reason is a disagreement).
    @Test(
        "Same status and advisories when dcap-qvl accepts; when it rejects, we reject at the check for the same cause",
        arguments: [
            ("dcap/tdx_quote.bin", "dcap/tdx_quote_collateral.json", 1_750_330_147, nil, .accepts("UpToDate")),
            ("dcap/sgx_quote.bin", "dcap/sgx_quote_collateral.json", 1_750_331_571, nil, .accepts("ConfigurationAndSWHardeningNeeded")),
            ("dcap/tdx_quote_v5_outdated.bin", "dcap/tdx_quote_v5_outdated_collateral.json", 1_771_413_331, nil,
             .rejects("No matching TCB level found", ours: "tcb_level")),
            ("dcap/tdx_quote.bin", "dcap/tdx_quote_collateral.json", 1_752_919_234 + 100_000, nil, .rejects("TCBInfo expired", ours: "tcb_info_window")),
            ("dcap/tdx_quote.bin", "dcap/tdx_quote_collateral.json", 1_750_330_147, 600, .rejects("report signature is invalid", ours: "quote_signature")),
            ("dcap/tdx_quote.bin", "dcap/tdx_quote_collateral.json", 1_750_330_147, 1000, .rejects("invalid for qe_report", ours: "qe_report_signature")),
            ("dcap/sgx_quote.bin", "dcap/sgx_quote_collateral.json", 1_750_331_571, 100, .rejects("report signature is invalid", ours: "quote_signature")),
        ] as [(String, String, Int, Int?, Expected)])
    func sameVerdict(quote: String, collateral: String, now: Int, flip: Int?, expected: Expected) async throws {
        let theirs = try await dcapQVL(quote, collateral, now, flip: flip)
        let report = try await ours(quote, collateral, now, flip: flip)
        let failed = report.checks.filter { !$0.passed }.map(\.name)
        switch expected {
        case .accepts(let status):
            #expect(theirs.status == status && theirs.rejected == nil, "dcap-qvl: \(theirs)")
            #expect(report.passed, "\(report.checks.filter { !$0.passed })")
            #expect(report.tcbStatus == theirs.status)
            #expect(Set(report.advisoryIDs) == Set(theirs.advisory_ids ?? []))
        case .rejects(let reason, let check):
            #expect(theirs.status == nil && theirs.rejected?.contains(reason) == true, "dcap-qvl: \(theirs)")
            #expect(!report.passed && failed.contains(check), "we failed \(failed), dcap-qvl rejected with \(theirs.rejected ?? "-")")
        }
    }

    enum Expected: Sendable, CustomTestStringConvertible {
        case accepts(String)
        case rejects(String, ours: String)
        var testDescription: String {
            switch self {
            case .accepts(let status): "both accept: \(status)"
            case .rejects(let reason, let check): "both reject: \(reason) / \(check)"
            }
        }
    }

    @Test("The helper reports only dcap-qvl's own verdicts: an input it cannot even read is an error, never a rejection")
    func helperIsStrict() async throws {
        let script = Fixture.repository.appendingPathComponent("Tests/dcap/dcap_qvl_verdict.py").path
        let notCollateral = Fixture.workRoot() + "/collateral.json"
        try "{}".write(toFile: notCollateral, atomically: true, encoding: .utf8)
        let run = try await Fixture.execute(
            "/usr/bin/python3", [script, Vectors.directory.appendingPathComponent("dcap/tdx_quote.bin").path, notCollateral, "1750330147"],
            environment: ["PATH": "/usr/bin:/bin", "PYTHONPATH": Fixture.repository.appendingPathComponent(".tools/python").path])
        #expect(run.status != 0 && run.out.isEmpty, "\(run.out)")
    }
}

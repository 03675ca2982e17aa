import ArgumentParser
import DCAPVerifier
import Foundation

/// `oauth3-enclave bench-verify QUOTE COLLATERAL --now T`: how long a full DCAP verification takes in
/// process (parse the quote and the collateral, then every check), so an auditor's batch or a relying
/// service can budget for it. `make bench` prints it beside dcap-qvl's time on the same vector.
struct VerifyBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-verify", abstract: "Measure a full DCAP verification of one quote and its collateral.")

    @Argument(help: "The quote (binary).") var quote: String
    @Argument(help: "Its collateral (the JSON layout of the test vectors).") var collateral: String
    @Option(help: "Validation time, Unix seconds (inside the collateral's window).") var now: Int
    @Option(help: "Measured verifications (after 20 warm-up ones).") var runs = 500

    func run() async throws {
        guard let quoteBytes = FileManager.default.contents(atPath: quote) else { throw ValidationError("cannot read \(quote)") }
        guard let collateralBytes = FileManager.default.contents(atPath: collateral) else { throw ValidationError("cannot read \(collateral)") }
        let time = Date(timeIntervalSince1970: TimeInterval(now))
        let verifier = QuoteVerifier(roots: [.intel])
        let clock = ContinuousClock()
        var samples: [Double] = []
        var verdict = ""
        for round in 0..<(runs + 20) {
            let start = clock.now
            let report = await verifier.verify(
                quote: try Quote.parse(Array(quoteBytes)), collateral: try Collateral.decode(Array(collateralBytes)), at: time)
            let elapsed = start.duration(to: clock.now).components
            guard report.passed else { throw ValidationError("the quote did not verify: \(report.checks.filter { !$0.passed })") }
            verdict = report.tcbStatus ?? "?"
            if round >= 20 { samples.append(Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15) }
        }
        samples.sort()
        let median = samples[samples.count / 2], p90 = samples[samples.count * 9 / 10]
        print(String(format: "oauth3-enclave verify (in process): median %.3f ms, p90 %.3f ms over %d runs, verdict %@",
                     median, p90, runs, verdict))
    }
}

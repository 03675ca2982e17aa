import ArgumentParser
import Attestation
import DCAPVerifier
import Foundation
import OAuth3Wire

/// `oauth3-enclave verify RESULT.json`: checks a result's attestation and says which checks passed.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Verify a result's attestation (its hash, signature, quote binding, quote chain and event log).",
        discussion: "Exits 0 only when every check passed.")
    @Argument(help: "A result as the API returns it: the status reply, or its `result` object.") var file: String
    @Flag(help: "Also accept the DEVELOPMENT guest agent's root (proves nothing about hardware).") var allowDevRoot = false
    @Flag(help: "Print the report as JSON.") var json = false
    @Option(help: "Validation time, Unix seconds (default: now).") var now: Int?

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
        guard let document = try? JSONDecoder().decode(JSONValue.self, from: data) else { throw ValidationError("\(file) is not JSON") }
        let result = document["result"].flatMap { $0["attestation"] == nil ? nil : $0 } ?? document
        let roots: [QuoteVerifier.Root] = allowDevRoot ? [.intel, .development] : [.intel]
        let time = now.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date()
        let (checks, application) = await ResultVerifier.verify(result: result, roots: roots, at: time)
        let passed = !checks.isEmpty && checks.allSatisfy(\.passed)
        if json {
            struct Report: Encodable { let passed: Bool; let checks: [QuoteVerifier.Check]; let app_id: String?; let compose_hash: String?; let development_root_allowed: Bool }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(Report(passed: passed, checks: checks, app_id: application?.appID, compose_hash: application?.composeHash, development_root_allowed: allowDevRoot)), as: UTF8.self))
        } else {
            if allowDevRoot { print("⚠️  --allow-dev-root: a quote from the DEVELOPMENT guest agent passes; that proves nothing about hardware.") }
            for check in checks { print("\(check.passed ? "✔" : "✘") \(check.name): \(check.detail)") }
            if let application { print("app_id \(application.appID ?? "?")  compose_hash \(application.composeHash ?? "?")  instance_id \(application.instanceID ?? "?")") }
            print(passed ? "VERIFIED" : "NOT VERIFIED")
        }
        if !passed { throw ExitCode(1) }
    }
}

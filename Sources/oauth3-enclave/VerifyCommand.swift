import ArgumentParser
import Attestation
import Consent
import DCAPVerifier
import Foundation
import OAuth3Wire

/// `oauth3-enclave verify`: verifies a result (its binding to a quote) or a bare quote, down to Intel's
/// root with collateral, the application's identity from the event log, and the result's consent record
/// (``ConsentVerifier``: whose passkey approved what). One line per check.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Verify a result's attestation, or a bare quote, offline or against a PCCS.",
        discussion: "Exits 0 only when every required check passed.")
    @Argument(help: "A result as the API returns it (the status reply, or its `result` object).") var file: String?
    @Option(help: "Verify a bare quote instead: binary, or hex with or without 0x.") var quote: String?
    @Option(help: "The event log (JSON array) that goes with --quote.") var eventLog: String?
    @Option(help: "Collateral file (the JSON layout of the test vectors).") var collateral: String?
    @Option(help: "Fetch the collateral from this PCS/PCCS base URL instead.") var pccs: String?
    @Option(help: "Validation time, Unix seconds (default: now).") var now: Int?
    @Option(help: "A TCB status to accept (repeatable; default UpToDate).") var accept: [String] = []
    @Option(help: "The compose hash the event log must state.") var expectComposeHash: String?
    @Option(help: "An app-compose.json whose SHA-256 the event log must state as compose hash.") var compose: String?
    @Option(help: "The app id the event log must state.") var expectAppId: String?
    @Flag(help: "Also accept the DEVELOPMENT guest agent's root (proves nothing about hardware).") var allowDevRoot = false
    @Flag(help: "Print the report as JSON.") var json = false

    func run() async throws {
        let time = now.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date()
        let roots: [QuoteVerifier.Root] = allowDevRoot ? [.intel, .development] : [.intel]
        var checks: [QuoteVerifier.Check] = []
        var consentSummary: String?
        var parsed: Quote?
        var entries: [EventLogEntry]?
        if let quotePath = quote {
            guard let data = FileManager.default.contents(atPath: quotePath) else { throw ValidationError("cannot read \(quotePath)") }
            let raw = bytes(fromHex: String(decoding: data, as: UTF8.self)) ?? Array(data)
            do { parsed = try Quote.parse(raw) } catch { checks.append(.init(name: "quote_parse", passed: false, detail: "\(error)")) }
            if let eventLog {
                guard let log = FileManager.default.contents(atPath: eventLog) else { throw ValidationError("cannot read \(eventLog)") }
                entries = try EventLog.decode(Array(log))
            }
            if let parsed { checks += await QuoteVerifier(roots: roots).verifySignatures(of: parsed, at: time) }
        } else if let file {
            guard let data = FileManager.default.contents(atPath: file), let document = try? JSONDecoder().decode(JSONValue.self, from: data) else {
                throw ValidationError("cannot read \(file) as JSON")
            }
            let result = document["result"].flatMap { $0["attestation"] == nil ? nil : $0 } ?? document
            checks += await ResultVerifier.verify(result: result, roots: roots, at: time).checks
            if result["approval"] != nil {
                let consent = ConsentVerifier.verify(result: result)
                checks += consent.checks.map { QuoteVerifier.Check(name: $0.name, passed: $0.passed, detail: $0.detail) }
                consentSummary = consent.summary
            }
            if let hex = result["attestation"]?["quote"]?.stringValue, let raw = bytes(fromHex: hex) { parsed = try? Quote.parse(raw) }
            if let log = result["attestation"]?["event_log"], let encoded = try? JSONEncoder().encode(log) { entries = try? EventLog.decode(Array(encoded)) }
        } else {
            throw ValidationError("give a result file, or --quote FILE")
        }

        var tcbStatus: String?
        var advisories: [String] = []
        if let parsed {
            if let entries, case .td(let report) = parsed.body, quote != nil {
                do {
                    let matches = try EventLog.replay(entries) == report.rtmrs
                    checks.append(.init(name: "event_log_replay", passed: matches, detail: matches ? "the event log replays to RTMR0–3" : "the event log does not replay to the quote's RTMRs"))
                } catch {
                    checks.append(.init(name: "event_log_replay", passed: false, detail: "\(error)"))
                }
            }
            let isDevelopment = !(await QuoteVerifier(roots: [.development]).verifySignatures(of: parsed, at: time).contains { $0.name == "pck_chain" && !$0.passed })
            if isDevelopment && allowDevRoot {
                checks.append(.init(name: "tcb_status", passed: true, detail: "a DEVELOPMENT quote: it has no TCB and no collateral"))
            } else if collateral != nil || pccs != nil {
                let material: Collateral
                if let path = collateral {
                    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
                    material = try Collateral.decode(Array(data))
                } else {
                    material = try await CollateralFetcher(base: pccs!).fetch(for: parsed)
                }
                let report = await QuoteVerifier(roots: roots).verify(quote: parsed, collateral: material, at: time, acceptable: accept.isEmpty ? QuoteVerifier.defaultAcceptableStatuses : Set(accept))
                let done = Set(checks.map(\.name))
                checks += report.checks.filter { !done.contains($0.name) }
                tcbStatus = report.tcbStatus
                advisories = report.advisoryIDs
            } else {
                checks.append(.init(name: "tcb_status", passed: false, detail: "no collateral: give --collateral FILE or --pccs URL to check the TCB"))
            }
        }

        let application = entries.map(EventLog.application)
        // The identity is only as good as the log it came from: a log that does not replay states nothing.
        let logReplayed = checks.contains { $0.name == "event_log_replay" && $0.passed }
        let unproven = logReplayed ? "" : " (the event log did not replay to the quote, so it proves nothing)"
        var composeExpectation = expectComposeHash?.lowercased()
        if let compose {
            guard let data = FileManager.default.contents(atPath: compose) else { throw ValidationError("cannot read --compose \(compose)") }
            composeExpectation = ComposeHash.of(data).hexString
        }
        if let composeExpectation {
            let stated = application?.composeHash
            checks.append(.init(name: "compose_hash", passed: logReplayed && stated == composeExpectation, detail: "the event log states compose hash \(stated ?? "none"); expected \(composeExpectation)" + unproven))
        }
        if let expected = expectAppId?.lowercased() {
            let stated = application?.appID
            checks.append(.init(name: "app_id", passed: logReplayed && stated == expected, detail: "the event log states app id \(stated ?? "none"); expected \(expected)" + unproven))
        }

        let passed = !checks.isEmpty && checks.allSatisfy(\.passed)
        if json {
            struct Report: Encodable {
                let passed: Bool; let checks: [QuoteVerifier.Check]; let tcb_status: String?; let advisory_ids: [String]; let consent: String?
                let app_id: String?; let compose_hash: String?; let instance_id: String?; let development_root_allowed: Bool
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(Report(
                passed: passed, checks: checks, tcb_status: tcbStatus, advisory_ids: advisories, consent: consentSummary, app_id: application?.appID,
                compose_hash: application?.composeHash, instance_id: application?.instanceID, development_root_allowed: allowDevRoot)), as: UTF8.self))
        } else {
            if allowDevRoot { print("⚠️  --allow-dev-root: a quote from the DEVELOPMENT guest agent passes; that proves nothing about hardware.") }
            for check in checks { print("\(check.passed ? "✔" : "✘") \(check.name): \(check.detail)") }
            if let tcbStatus { print("TCB status \(tcbStatus)" + (advisories.isEmpty ? "" : ", advisories \(advisories.joined(separator: ", "))")) }
            if let consentSummary { print("consent: \(consentSummary)") }
            if let application { print("app_id \(application.appID ?? "?")  compose_hash \(application.composeHash ?? "?")  instance_id \(application.instanceID ?? "?")") }
            print(passed ? "VERIFIED" : "NOT VERIFIED")
        }
        if !passed { throw ExitCode(1) }
    }
}

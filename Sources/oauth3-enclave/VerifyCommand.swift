import ArgumentParser
import Attestation
import Consent
import DCAPVerifier
import Foundation
import OAuth3Wire

/// `oauth3-enclave verify`: verifies a result (its binding to a quote) or a bare quote, down to Intel's
/// root with collateral, the OS measurements against a pinned release, the application's boot-time
/// identity from the event log, and the result's consent record (``ConsentVerifier``: whose passkey approved
/// what). One line per check; the policies are ``AttestationPolicySet/enclave(os:composeHash:appID:)``.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Verify a result's attestation, or a bare quote, offline or against a PCCS.",
        discussion: """
            Exits 0 only when every required check passed. A result (or a quote with an event log or an identity \
            expectation) must also run a pinned OS: give --expect-os FILE (dstack/os/*.json), or --os-pins DIR with \
            --compose FILE to use the pin of the release the compose file names (x-oauth3-dstack-os), once the boot \
            log states that compose's hash; otherwise the verdict is NOT VERIFIED: OS not pinned, unless \
            --accept-unpinned-os. A bare quote alone is a platform check only. A result is read exactly: a member \
            the result format does not have, or one it writes that is missing, fails result_format.
            """)
    @Argument(help: "A result as the API returns it (the status reply, or its `result` object).") var file: String?
    @Option(help: "Verify a bare quote instead: binary, or hex with or without 0x.") var quote: String?
    @Option(help: "The event log (JSON array) that goes with --quote.") var eventLog: String?
    @Option(help: "Collateral file (the JSON layout of the test vectors).") var collateral: String?
    @Option(help: "Fetch the collateral from this PCS/PCCS base URL instead.") var pccs: String?
    @Option(help: "Validation time, Unix seconds (default: now).") var now: Int?
    @Option(help: "A TCB status to accept (repeatable; default UpToDate).") var accept: [String] = []
    @Option(help: "The compose hash the boot event log must state.") var expectComposeHash: String?
    @Option(help: "An app-compose.json whose SHA-256 the boot event log must state as compose hash.") var compose: String?
    @Option(help: "The app id the boot event log must state.") var expectAppId: String?
    @Option(help: "The dstack OS release's measurements (MRTD, RTMR0–2) the TD must match: a pin file such as dstack/os/*.json.")
    var expectOs: String?
    @Option(help: "A directory of OS pins (<release>.json, as dstack/os): the pin of the release the --compose file names is used; --expect-os wins.")
    var osPins: String?
    @Flag(help: "Do not compare the OS measurements with anything (proves nothing about the OS; printed loudly).")
    var acceptUnpinnedOs = false
    @Flag(help: "Also accept the DEVELOPMENT guest agent's root (proves nothing about hardware).") var allowDevRoot = false
    @Flag(help: "Print the report as JSON.") var json = false

    func run() async throws {
        let time = now.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date()
        let roots: [QuoteVerifier.Root] = allowDevRoot ? [.intel, .development] : [.intel]
        var composeExpectation = expectComposeHash?.lowercased()
        var appCompose: [UInt8]?
        if let compose {
            guard let data = FileManager.default.contents(atPath: compose) else { throw ValidationError("cannot read --compose \(compose)") }
            appCompose = Array(data)
            composeExpectation = ComposeHash.of(data).hexString
        }
        let os: OSExpectation?
        do {
            os = try OSExpectation.fromOptions(pinFile: expectOs, pinDirectory: osPins, appCompose: appCompose, acceptUnpinned: acceptUnpinnedOs)
        } catch { throw ValidationError(error.message) }
        let policies = AttestationPolicySet.enclave(os: os, composeHash: composeExpectation, appID: expectAppId)

        var checks: [QuoteVerifier.Check] = []
        var verdict: AttestationVerdict?
        var consentSummary: String?
        if let quotePath = quote {
            guard let data = FileManager.default.contents(atPath: quotePath) else { throw ValidationError("cannot read \(quotePath)") }
            let raw = bytes(fromHex: String(decoding: data, as: UTF8.self)) ?? Array(data)
            var log: [UInt8]?
            if let eventLog {
                guard let bytes = FileManager.default.contents(atPath: eventLog) else { throw ValidationError("cannot read \(eventLog)") }
                log = Array(bytes)
            }
            let parsed: Quote
            do { parsed = try Quote.parse(raw) } catch {
                try report(checks: [.init(name: "quote_parse", passed: false, detail: "\(error)")], verdict: nil, os: os, consent: nil)
                return
            }
            // A bare quote alone is a platform check; anything about the application needs the OS pinned too.
            let appLevel = log != nil || composeExpectation != nil || expectAppId != nil || os != nil
            let verifier = AttestationVerifier(roots: roots, policies: appLevel ? policies : AttestationPolicySet([]))
            let quoteVerdict = await verifier.verify(AttestationEvidence(quote: parsed, eventLogJSON: log), platform: try await platform(for: parsed), at: time)
            checks = quoteVerdict.checks
            verdict = quoteVerdict
        } else if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let document: JSONValue
            do { document = try StrictJSON.decode(JSONValue.self, from: data) } catch { throw ValidationError("\(file) is not strict JSON: \(error)") }
            let object = document["result"].flatMap { $0["attestation"] == nil ? nil : $0 } ?? document
            let parsed = object["attestation"]?["quote"]?.stringValue.flatMap(bytes(fromHex:)).flatMap { try? Quote.parse($0) }
            let resultVerdict = await ResultVerifier.verify(
                document: object, verifier: AttestationVerifier(roots: roots, policies: policies),
                platform: parsed == nil ? .signaturesOnly : try await platform(for: parsed!), at: time)
            checks = resultVerdict.checks
            verdict = resultVerdict.attestation
            if let claims = resultVerdict.result?.claims {
                let consent = ConsentVerifier.verify(result: claims)
                checks += consent.checks.map { QuoteVerifier.Check(name: $0.name, passed: $0.passed, detail: $0.detail) }
                consentSummary = consent.summary
            }
        } else {
            throw ValidationError("give a result file, or --quote FILE")
        }
        try report(checks: checks, verdict: verdict, os: os, consent: consentSummary)
    }

    /// Full DCAP with the collateral the options name (a file, or fetched from a PCCS).
    func platform(for quote: Quote) async throws -> AttestationVerifier.Platform {
        let acceptable = accept.isEmpty ? QuoteVerifier.defaultAcceptableStatuses : Set(accept)
        if let path = collateral {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
            return .dcap(try Collateral.decode(Array(data)), acceptable: acceptable)
        }
        if let pccs { return .dcap(try await CollateralFetcher(base: pccs).fetch(for: quote), acceptable: acceptable) }
        return .dcap(nil, acceptable: acceptable)
    }

    /// Prints the checks and the verdict (text or JSON) and exits 1 unless everything passed.
    func report(checks: [QuoteVerifier.Check], verdict: AttestationVerdict?, os: OSExpectation?, consent: String?) throws {
        let passed = !checks.isEmpty && checks.allSatisfy(\.passed)
        let identity = verdict?.evidence.identity
        let osUnpinned = checks.contains { $0.name == "os_measurements" && !$0.passed && $0.detail.hasPrefix(OSMeasurementPolicy.notPinned) }
        let osAcceptedUnpinned = os == .unsafeUnpinnedAccepted && checks.contains { $0.name == "os_measurements" }
        let line = passed
            ? (osAcceptedUnpinned ? "VERIFIED, BUT THE OS IS NOT PINNED (--accept-unpinned-os)" : "VERIFIED")
            : (osUnpinned ? "NOT VERIFIED: \(Self.notPinnedReason(checks))" : "NOT VERIFIED")
        if json {
            struct Report: Encodable {
                let passed: Bool; let verdict: String; let checks: [QuoteVerifier.Check]; let tcb_status: String?; let advisory_ids: [String]
                let app_id: String?; let compose_hash: String?; let instance_id: String?; let runtime_events: [String]
                let os_pinned: String?; let development_root_allowed: Bool; let consent: String?
            }
            var pinned: String?
            if case .pinned(let pin)? = os { pinned = pin.release }
            if case .selectedByCompose(let selection)? = os, case .named(let release) = selection.release, selection.pins[release] != nil,
                checks.contains(where: { $0.name == "os_measurements" && $0.passed }) {
                pinned = release
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(Report(
                passed: passed, verdict: line, checks: checks, tcb_status: verdict?.tcbStatus, advisory_ids: verdict?.advisoryIDs ?? [],
                app_id: identity?.appID, compose_hash: identity?.composeHash, instance_id: identity?.instanceID,
                runtime_events: identity?.runtimeEvents ?? [], os_pinned: pinned, development_root_allowed: allowDevRoot,
                consent: consent)), as: UTF8.self))
        } else {
            if allowDevRoot { print("⚠️  --allow-dev-root: a quote from the DEVELOPMENT guest agent passes; that proves nothing about hardware.") }
            if os == .unsafeUnpinnedAccepted {
                print("⚠️  --accept-unpinned-os: the OS measurements (MRTD, RTMR0–2) are NOT compared with any release; the boot identity is only as honest as an unknown OS.")
            }
            for check in checks { print("\(check.passed ? "✔" : "✘") \(check.name): \(check.detail)") }
            if let tcbStatus = verdict?.tcbStatus {
                print("TCB status \(tcbStatus)" + (verdict!.advisoryIDs.isEmpty ? "" : ", advisories \(verdict!.advisoryIDs.joined(separator: ", "))"))
            }
            if let identity {
                print("app_id \(identity.appID ?? "?")  compose_hash \(identity.composeHash ?? "?")  instance_id \(identity.instanceID ?? "?")")
                if !identity.runtimeEvents.isEmpty { print("runtime events (the application's, not identity): \(identity.runtimeEvents.joined(separator: ", "))") }
            }
            if let consent { print("consent: \(consent)") }
            print(line)
        }
        if !passed { throw ExitCode(1) }
    }

    /// "OS not pinned", with the reason in parentheses when the OS check gave one (a release with no pin).
    static func notPinnedReason(_ checks: [QuoteVerifier.Check]) -> String {
        let detail = checks.first { $0.name == "os_measurements" && !$0.passed }?.detail ?? OSMeasurementPolicy.notPinned
        return String(detail.prefix { $0 != ":" })
    }
}

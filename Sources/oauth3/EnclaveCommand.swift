import ArgumentParser
import DCAPVerifier
import Foundation
import OAuth3Client

/// What the commands that trust the enclave expect of it: `--compose`, `--expect-compose-hash`,
/// `--expect-app-id`, the OS (`--expect-os FILE`, `--os-pins DIR` with `--compose`, or the loud
/// `--accept-unpinned-os`), and the roots.
struct ExpectationOptions: ParsableArguments {
    @Option(help: "An app-compose.json: the enclave's boot event log must state its SHA-256 as compose hash.") var compose: String?
    @Option(help: "The compose hash the enclave's boot event log must state.") var expectComposeHash: String?
    @Option(help: "The app id the enclave's boot event log must state.") var expectAppId: String?
    @Option(help: "The dstack OS release's measurements the enclave must match (a pin file, dstack/os/*.json).") var expectOs: String?
    @Option(help: "A directory of OS pins (<release>.json): the pin of the release the --compose file names; --expect-os wins.") var osPins: String?
    @Flag(help: "Do not compare the enclave's OS measurements with any release (proves nothing about the OS).") var acceptUnpinnedOs = false
    @Flag(help: "Accept the DEVELOPMENT guest agent's root (proves nothing about hardware).") var allowDevRoot = false

    /// The OS expectation the flags ask for (nil: none).
    func os() throws -> OSExpectation? {
        do {
            return try OSExpectation.fromOptions(pinFile: expectOs, pinDirectory: osPins, appCompose: try appCompose(), acceptUnpinned: acceptUnpinnedOs)
        } catch let error as QuoteParseError { throw ValidationError(error.message) }
    }

    /// The bytes of `--compose`, when given.
    func appCompose() throws -> [UInt8]? {
        guard let compose else { return nil }
        guard let data = FileManager.default.contents(atPath: compose) else { throw ValidationError("cannot read --compose \(compose)") }
        return Array(data)
    }

    /// Exactly what the flags say (it may name no application).
    func explicitExpectation() throws -> EnclaveExpectation {
        var composeHash = expectComposeHash
        if let appCompose = try appCompose() { composeHash = ComposeHash.of(appCompose).hexString }
        return EnclaveExpectation(composeHash: composeHash, appID: expectAppId, os: try os(), allowDevelopmentRoot: allowDevRoot)
    }

    /// The expectation the flags give; when they name no application, the enclave pinned for `base`.
    func expectation(for base: URL) throws -> (EnclaveExpectation, pinned: EnclavePin?) {
        let explicit = try explicitExpectation()
        if explicit.namesAnApplication { return (explicit, nil) }
        guard let pin = try EnclavePins.pin(for: base) else {
            throw ValidationError(
                "--seal needs the application you mean: --compose FILE, --expect-compose-hash HEX or --expect-app-id HEX, or a first `oauth3 enclave pin` for \(EnclavePins.key(base))")
        }
        let os = try os() ?? .pinned(pin.os)
        return (EnclaveExpectation(composeHash: pin.composeHash, appID: pin.appID, os: os, allowDevelopmentRoot: allowDevRoot), pin)
    }

    func warnings() {
        if allowDevRoot { Output.note("⚠️  --allow-dev-root: accepting a DEVELOPMENT enclave") }
        if acceptUnpinnedOs { Output.note("⚠️  --accept-unpinned-os: the enclave's OS measurements are NOT compared with any release") }
    }
}

struct Enclave: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check and pin the enclave (trust on first use).", subcommands: [Pin.self, Show.self])

    struct Pin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the enclave at --url and save its boot identity and OS measurements to ~/.oauth3/enclaves.json.",
            discussion: "Later `secrets set --seal` without --compose/--expect-* seals only to an enclave with the same identity and OS.")
        @OptionGroup var expectation: ExpectationOptions
        @Flag(help: "Replace an existing, different pin for this URL.") var replace = false
        @OptionGroup var connection: Connection

        func run() async throws {
            expectation.warnings()
            let base = try connection.baseURL
            guard let os = try expectation.os() else {
                throw ValidationError(
                    "pin the OS too: --expect-os FILE (dstack/os/*.json), --os-pins DIR with --compose FILE, or --accept-unpinned-os to trust the measurements seen now")
            }
            // What the flags name is checked now; with nothing named, whatever attests is pinned (trust on first use).
            let wanted = try expectation.explicitExpectation()
            let enclave = try await OAuth3Client(baseURL: base, apiKey: nil).attestEnclave(expecting: wanted)
            guard let report = { if case .td(let report) = enclave.attestation.quote.body { report } else { nil } }() else {
                throw ValidationError("the enclave's quote is not a TDX quote")
            }
            let stamp = ISO8601DateFormatter().string(from: Date())
            let pinnedOS: PinnedOS
            switch os {
            case .pinned(let release):
                pinnedOS = release
            case .selectedByCompose(let selection):
                // The OS policy passed, so the compose's release had a pin and the TD matched it.
                guard case .named(let release) = selection.release, let selected = selection.pins[release] else {
                    throw ValidationError("no OS pin was selected from --compose")
                }
                pinnedOS = selected
            case .unsafeUnpinnedAccepted:
                pinnedOS = .measured(report, release: "trust-on-first-use", source: "measured at \(EnclavePins.key(base)) on \(stamp), not compared with any release")
            }
            let pin = EnclavePin(appID: enclave.identity.appID, composeHash: enclave.identity.composeHash, os: pinnedOS, pinnedAt: stamp)
            if let existing = try EnclavePins.pin(for: base), existing.appID != pin.appID || existing.composeHash != pin.composeHash || existing.os != pin.os, !replace {
                throw ValidationError("\(EnclavePins.key(base)) is pinned to a different enclave (\(existing.summary)); it now attests \(pin.summary). Use --replace if that is expected.")
            }
            try EnclavePins.save(pin, for: base)
            Output.note("📌 \(EnclavePins.key(base)) pinned: \(pin.summary)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the pin saved for --url.")
        @OptionGroup var connection: Connection
        func run() async throws {
            let base = try connection.baseURL
            guard let pin = try EnclavePins.pin(for: base) else { throw ValidationError("no pin for \(EnclavePins.key(base)): run `oauth3 enclave pin`") }
            print("\(EnclavePins.key(base)): \(pin.summary), pinned \(pin.pinnedAt)")
        }
    }
}

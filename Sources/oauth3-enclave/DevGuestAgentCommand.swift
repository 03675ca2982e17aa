import ArgumentParser
import Attestation
import DevGuestAgent
import Foundation
import Hummingbird
import Logging

/// `oauth3-enclave dev-guest-agent --socket PATH [--compose FILE]`: dstack's guest-agent API, for development.
struct DevGuestAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-guest-agent",
        abstract: "Serve a DEVELOPMENT guest agent (GetQuote, GetKey, Info) on a unix socket; quotes chain to a development root, not Intel's.")
    @Option(help: "Socket to serve on.") var socket: String
    @Option(help: "The app-compose.json whose SHA-256 is the measured compose hash.") var compose: String?
    @Option(help: "Seed file (32 bytes, created 0600 if missing): keys and GetKey derive from it.") var seedFile: String?

    func run() async throws {
        let logger = Logger(label: "oauth3-dev-guest-agent")
        let composeBytes = try compose.map { path in
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read --compose \(path)") }
            return Array(data)
        } ?? Array(GuestAgentOptions.developmentCompose.utf8)
        let seed = try DevSeed.load(path: seedFile ?? socket + ".seed")
        let authority = try DevelopmentAuthority(seed: seed, appCompose: composeBytes)
        logger.warning("DEVELOPMENT guest agent: not a TEE", metadata: ["socket": "\(socket)", "compose_hash": "\(authority.info.composeHash)", "app_id": "\(authority.info.appID)"])
        try await DevGuestAgentServer.application(authority: authority, socketPath: socket, logger: logger).runService()
    }
}

import ArgumentParser
import Attestation
import DevGuestAgent
import Foundation
import Gateway
import Logging
import ServiceLifecycle

/// Which guest agent quotes results and derives keys: dstack's socket when present, else a development
/// agent this process serves on a socket of its own (the daemon talks to both the same way).
struct GuestAgentOptions: ParsableArguments {
    @Option(help: "The guest agent's socket ($OAUTH3_GUEST_AGENT_SOCKET; default /var/run/dstack.sock when it exists, else a development agent).")
    var guestAgentSocket: String?
    @Option(help: "The app-compose.json the development agent measures (default: a built-in development one).")
    var compose: String?

    static let dstackSocket = "/var/run/dstack.sock"
    static let developmentCompose = #"{"manifest_version":2,"name":"oauth3-enclave-development","runner":"docker-compose","docker_compose_file":"(development)"}"#

    /// The agent, and the development agent's service group to stop at exit (`nil` for a real agent).
    func start(dataDirectory: String, logger: Logger) async throws -> (agent: any GuestAgent, development: ServiceGroup?) {
        let environment = ProcessInfo.processInfo.environment
        if let socket = guestAgentSocket ?? ServeEnvironment.guestAgentSocket.value(in: environment) {
            return (DstackGuestAgent(socketPath: socket, kind: socket == Self.dstackSocket ? "dstack" : "agent"), nil)
        }
        if FileManager.default.fileExists(atPath: Self.dstackSocket) {
            return (DstackGuestAgent(socketPath: Self.dstackSocket), nil)
        }
        let composeBytes: [UInt8]
        if let compose {
            guard let data = FileManager.default.contents(atPath: compose) else { throw ValidationError("cannot read --compose \(compose)") }
            composeBytes = Array(data)
        } else {
            composeBytes = Array(Self.developmentCompose.utf8)
        }
        let authority = try DevelopmentAuthority(seed: try DevSeed.load(path: dataDirectory + "/dev-guest-agent.seed"), appCompose: composeBytes)
        let socket = dataDirectory + "/dev-guest-agent.sock"
        let (ready, signal) = AsyncStream.makeStream(of: Void.self)
        let server = DevGuestAgentServer.application(authority: authority, socketPath: socket, logger: logger) { signal.yield() }
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        Task { try await group.run() }
        var iterator = ready.makeAsyncIterator()
        _ = await iterator.next()
        logger.warning("no /var/run/dstack.sock: using the DEVELOPMENT guest agent; its quotes chain to a development root, not Intel's", metadata: ["socket": "\(socket)"])
        return (DstackGuestAgent(socketPath: socket, kind: "development"), group)
    }
}

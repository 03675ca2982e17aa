import Attestation
import Crypto
import DevGuestAgent
import Foundation
import Gateway
import Hummingbird
import Logging
import OAuth3Client
import OAuth3Wire
import Sandbox
import ServiceLifecycle
import Store
import Synchronization
import TestSupport
import Vault

/// A real daemon on a free loopback port, with real Deno and the real jail, for one test. Suites that
/// start one carry `.stopsDaemons`, so it is stopped and awaited before the next test.
final class LiveDaemon: StoppedAtTestEnd {
    let url: URL
    let service: JobService
    let dataDirectory: String
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    private let agentGroup: ServiceGroup
    private let agentTask: Task<Void, any Error>
    /// The development guest agent's socket this daemon uses.
    let agentSocket: String

    /// Starts a daemon over a database in `dataDirectory` (fresh by default).
    /// The development guest agent is real: it serves dstack's API on a unix socket in the data directory,
    /// with a seed kept there (so a restart keeps the vault key) unless `seed` is given, booted with `appCompose`.
    static func start(
        dataDirectory: String = Fixture.workRoot(), seed: [UInt8]? = nil, clock: any WallClock = SystemWallClock(),
        configure: (inout GatewayConfiguration) -> Void = { _ in }, limits: (inout SandboxLimits) -> Void = { _ in },
        policies: String = Fixture.policies, appCompose: [UInt8] = Array("{\"test\":true}".utf8)
    ) async throws -> LiveDaemon {
        var configuration = GatewayConfiguration(host: "127.0.0.1", port: 0, workers: 2, queueLimit: 16, shutdownGraceSeconds: 1)
        configure(&configuration)
        let runner = try await SkillRunner(configuration: Fixture.configuration(policies: policies) { limits(&$0.policy.limits) })
        let store = try Store.open(path: dataDirectory + "/enclave.sqlite")
        var logger = Logger(label: "test-daemon")
        logger.logLevel = .warning

        let authority = try DevelopmentAuthority(seed: try seed ?? DevSeed.load(path: dataDirectory + "/agent.seed"), appCompose: appCompose)
        let agentSocket = dataDirectory + "/agent-\(UUID().uuidString.prefix(8)).sock"
        let (ready, signal) = AsyncStream.makeStream(of: Void.self)
        let agentServer = DevGuestAgentServer.application(authority: authority, socketPath: agentSocket, logger: logger) { signal.yield() }
        let agentGroup = ServiceGroup(configuration: .init(services: [agentServer], logger: logger))
        let agentTask = Task { try await agentGroup.run() }
        var readiness = ready.makeAsyncIterator()
        _ = await readiness.next()
        let agent = DstackGuestAgent(socketPath: agentSocket, kind: "development")

        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let parts: Gateway.Parts
        do {
            parts = try await Gateway.make(
                configuration: configuration, store: store, vault: Vault(provider: GuestAgentKeyProvider(agent: agent)), runner: runner,
                attestor: Attestor(agent: agent), clock: clock, logger: logger
            ) { port in continuation.yield(port) }
        } catch {
            await agentGroup.triggerGracefulShutdown()
            _ = try? await agentTask.value
            throw error
        }
        let group = ServiceGroup(configuration: .init(services: parts.services, logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw POSIXError(.EADDRNOTAVAIL) }
        let daemon = LiveDaemon(
            url: URL(string: "http://127.0.0.1:\(port)")!, service: parts.service, dataDirectory: dataDirectory, group: group, task: task,
            agentGroup: agentGroup, agentTask: agentTask, agentSocket: agentSocket)
        DaemonRegistry.register(daemon)
        return daemon
    }

    private init(
        url: URL, service: JobService, dataDirectory: String, group: ServiceGroup, task: Task<Void, any Error>, agentGroup: ServiceGroup,
        agentTask: Task<Void, any Error>, agentSocket: String
    ) {
        self.url = url
        self.service = service
        self.dataDirectory = dataDirectory
        self.group = group
        self.task = task
        self.agentGroup = agentGroup
        self.agentTask = agentTask
        self.agentSocket = agentSocket
    }

    /// Graceful shutdown, as on SIGTERM; returns when the daemon and its guest agent have stopped.
    /// Stopping twice is harmless (a test that restarts stops the first daemon itself).
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        await agentGroup.triggerGracefulShutdown()
        _ = try? await agentTask.value
    }

    func client(_ key: String?) -> OAuth3Client { OAuth3Client(baseURL: url, apiKey: key) }

    /// A new tenant and its client.
    func tenant(_ name: String = "agent") async throws -> (client: OAuth3Client, tenantId: String) {
        let account = try await client(nil).signup(name: name)
        return (client(account.apiKey), account.tenantId)
    }

    /// A raw HTTP exchange, for what the typed client cannot send (malformed bodies, forms, headers).
    func raw(
        _ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]
    ) async throws -> (status: Int, headers: [String: String], body: String) {
        var request = URLRequest(url: URL(string: url.absoluteString + path)!)
        request.httpMethod = method
        request.httpBody = body
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields { fields[String(describing: key).lowercased()] = String(describing: value) }
        return (http.statusCode, fields, String(decoding: data, as: UTF8.self))
    }
}

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The token in an approval link.
func token(of url: String?) -> String { url?.components(separatedBy: "token=").last ?? "" }

/// The approval's JSON decision body.
func decision(_ token: String, _ action: String = "approve", level: String? = nil, secrets: [String: String]? = nil) -> Data {
    try! JSONEncoder().encode(ApprovalDecision(token: token, action: action, level: level, secrets: secrets))
}

/// Approves a request through its approval link.
@discardableResult
func approve(_ daemon: LiveDaemon, _ status: ExecutionStatus, level: String? = nil, secrets: [String: String]? = nil) async throws -> (status: Int, body: String) {
    let reply = try await daemon.raw("POST", "/approve/\(status.requestId)", body: decision(token(of: status.approvalUrl), level: level, secrets: secrets), headers: ["Content-Type": "application/json"])
    return (reply.status, reply.body)
}

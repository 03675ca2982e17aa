import Attestation
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import OAuth3Wire
import Sandbox
import ServiceLifecycle
import Store
import TestSupport
import Testing
import Vault

/// The daemon as `Gateway.make` wires it, driven through Hummingbird's router test client, over an
/// in-memory store, the development guest agent in process (real quotes, real vault keys) and a
/// ``ScriptedRunner``: no socket, no root, no Deno, no jail.
struct RoutedGateway: Sendable {
    let client: any TestClientProtocol
    let service: JobService
    let runner: ScriptedRunner

    /// Runs `body` against a fresh gateway whose runner answers with `script`; the scheduler runs beside
    /// the routes and is shut down gracefully afterwards.
    static func with(
        script: @escaping ScriptedRunner.Script, configure: (inout GatewayConfiguration) -> Void = { _ in },
        _ body: @Sendable (RoutedGateway) async throws -> Void
    ) async throws {
        var configuration = GatewayConfiguration(host: "127.0.0.1", port: 0, workers: 2, queueLimit: 16, shutdownGraceSeconds: 1)
        configure(&configuration)
        let runner = ScriptedRunner(policy: try PolicySet.load(from: Fixture.policies), script: script)
        let authority = try DevelopmentAuthority(seed: Array(repeating: 7, count: 32), appCompose: Array("{\"test\":true}".utf8))
        let agent = InProcessDevelopmentAgent(authority: authority)
        var logger = Logger(label: "routed-gateway")
        logger.logLevel = .warning
        let parts = try await Gateway.make(
            configuration: configuration, store: try Store.inMemory(), vault: try await Vault(provider: GuestAgentKeyProvider(agent: agent)),
            runner: runner, attestor: try await Attestor(agent: agent), logger: logger)
        let scheduler = ServiceGroup(configuration: .init(services: [parts.service.scheduler], logger: logger))
        let running = Task { try await scheduler.run() }
        do {
            try await waitUntil("the scheduler accepts jobs") { await parts.service.scheduler.isAccepting }
            try await parts.application.test(.router) { client in
                try await body(RoutedGateway(client: client, service: parts.service, runner: runner))
            }
        } catch {
            await scheduler.triggerGracefulShutdown()
            _ = try? await running.value
            throw error
        }
        await scheduler.triggerGracefulShutdown()
        try await running.value
    }

    /// One request; `body` is encoded as JSON, `key` sent as the bearer credential.
    func send(_ method: HTTPRequest.Method, _ path: String, json body: (any Encodable)? = nil, key: String? = nil) async throws -> (status: HTTPResponse.Status, body: String) {
        var headers: HTTPFields = [:]
        if let key { headers[.authorization] = "Bearer \(key)" }
        var buffer: ByteBuffer?
        if let body {
            headers[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: try JSONEncoder().encode(body))
        }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: buffer)
        return (response.status, String(buffer: response.body))
    }

    /// `send`, decoding a 2xx reply as `T`; another status fails with the reply's body.
    func decoded<T: Decodable>(_ type: T.Type, _ method: HTTPRequest.Method, _ path: String, json body: (any Encodable)? = nil, key: String? = nil) async throws -> T {
        let reply = try await send(method, path, json: body, key: key)
        try #require((200..<300).contains(reply.status.code), "\(method) \(path): \(reply.status.code) \(reply.body)")
        return try JSONDecoder().decode(T.self, from: Data(reply.body.utf8))
    }

    /// A new tenant's API key.
    func signup() async throws -> String {
        try await decoded(SignupResponse.self, .post, "/signup", json: SignupRequest(name: "agent")).apiKey
    }

    /// Submits `code` as the tenant with `key`.
    func execute(_ code: String, args: [String: JSONScalar]? = nil, key: String) async throws -> ExecutionStatus {
        try await decoded(ExecutionStatus.self, .post, "/execute", json: ExecuteRequest(skillCode: code, args: args), key: key)
    }

    /// Approves or denies `job` through the token in its approval link.
    func decide(_ job: ExecutionStatus, _ action: String = "approve", secrets: [String: String]? = nil) async throws -> (status: HTTPResponse.Status, body: String) {
        try await send(.post, "/approve/\(job.requestId)", json: ApprovalDecision(token: token(of: job.approvalUrl), action: action, secrets: secrets))
    }

    /// The job's status; `wait` holds the request until the job changes (at most `timeout` seconds).
    func status(_ id: String, key: String, wait: Bool = false, timeout: Int = 10) async throws -> ExecutionStatus {
        try await decoded(ExecutionStatus.self, .get, "/execute/\(id)/status" + (wait ? "?wait=true&timeout=\(timeout)" : ""), key: key)
    }

    /// Long-polls until the job is final.
    func final(_ id: String, key: String) async throws -> ExecutionStatus {
        var current = try await status(id, key: key)
        let deadline = ContinuousClock.now + .seconds(10)
        while !current.isFinal && ContinuousClock.now < deadline { current = try await status(id, key: key, wait: true, timeout: 5) }
        return current
    }
}

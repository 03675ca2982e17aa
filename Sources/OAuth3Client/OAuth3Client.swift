import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OAuth3Wire

/// A client for the enclave's API, as the `oauth3` CLI and the tests use it.
public struct OAuth3Client: Sendable {
    public let baseURL: URL
    public let apiKey: String?
    let session: URLSession

    /// - Parameters:
    ///   - baseURL: the enclave, e.g. `http://127.0.0.1:8787`.
    ///   - apiKey: the tenant's key (or an orchestrator's JWT).
    public init(baseURL: URL, apiKey: String?) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 150  // longer than a 120 s long-poll
        self.session = URLSession(configuration: configuration)
    }

    /// Creates a tenant; the reply holds the only copy of its API key.
    public func signup(name: String? = nil, email: String? = nil) async throws -> SignupResponse {
        try await send("POST", "/signup", body: SignupRequest(name: name, email: email), authenticated: false)
    }

    public func execute(_ request: ExecuteRequest) async throws -> ExecutionStatus {
        try await send("POST", "/execute", body: request)
    }

    public func dryRun(_ request: ExecuteRequest) async throws -> DryRunResult {
        var request = request
        request.dryRun = true
        return try await send("POST", "/execute", body: request)
    }

    public func scope(_ request: ScopeRequest) async throws -> ExecutionStatus {
        try await send("POST", "/scope", body: request)
    }

    /// One status request; with `wait`, the enclave holds it until the job changes (at most its limit).
    public func status(_ id: String, wait: Bool = false) async throws -> ExecutionStatus {
        try await send("GET", "/execute/\(id)/status" + (wait ? "?wait=true" : ""), body: Optional<ExecuteRequest>.none)
    }

    /// Long-polls until the job is final or awaiting secrets, or until `timeout`; then returns the last status
    /// (with `status: "timeout"` if time ran out first).
    public func poll(_ id: String, timeout: Duration) async throws -> ExecutionStatus {
        let deadline = ContinuousClock.now + timeout
        var last = ExecutionStatus(requestId: id, status: "timeout")
        while ContinuousClock.now < deadline {
            last = try await status(id, wait: true)
            if last.isFinal || last.status == "awaiting_secrets" { return last }
        }
        var timedOut = last
        timedOut.status = "timeout"
        timedOut.error = "no result after \(timeout)"
        return timedOut
    }

    public func putSecret(_ name: String, value: String) async throws {
        let _: [String: String] = try await send("PUT", "/secrets/\(name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name)", body: SecretValue(value: value))
    }

    public func secrets() async throws -> SecretList { try await send("GET", "/secrets", body: Optional<SecretValue>.none) }

    public func deleteSecret(_ name: String) async throws {
        let _: [String: String] = try await send("DELETE", "/secrets/\(name)", body: Optional<SecretValue>.none)
    }

    public func me() async throws -> TenantInfo { try await send("GET", "/me", body: Optional<SecretValue>.none) }

    public func history(limit: Int = 50) async throws -> HistoryResponse {
        try await send("GET", "/history?limit=\(limit)", body: Optional<SecretValue>.none)
    }

    public func sessions() async throws -> SessionList { try await send("GET", "/sessions", body: Optional<SecretValue>.none) }

    /// Sends one request and decodes the reply; a non-2xx reply throws ``OAuth3ClientError`` with the
    /// enclave's message.
    func send<Body: Encodable, Reply: Decodable>(_ method: String, _ path: String, body: Body?, authenticated: Bool = true) async throws -> Reply {
        guard let url = URL(string: baseURL.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path) else {
            throw OAuth3ClientError(status: nil, message: "invalid URL \(baseURL)\(path)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if authenticated, let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONEncoder().encode(body)
        }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw OAuth3ClientError(status: nil, message: "cannot reach \(url.absoluteString): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let message = (try? JSONDecoder().decode(ErrorBody.self, from: data))?.error ?? String(decoding: data, as: UTF8.self)
            throw OAuth3ClientError(status: status, message: message)
        }
        do {
            return try StrictJSON.decode(Reply.self, from: data)
        } catch {
            throw OAuth3ClientError(status: status, message: "unexpected reply to \(method) \(path): \(error)")
        }
    }
}

/// A failed API call: the HTTP status (if there was a reply) and the enclave's message.
public struct OAuth3ClientError: Error, Sendable, CustomStringConvertible {
    public let status: Int?
    public let message: String
    public init(status: Int?, message: String) {
        self.status = status
        self.message = message
    }
    public var description: String { status.map { "HTTP \($0): \(message)" } ?? message }
}

import AsyncHTTPClient
import Foundation
import OAuth3Wire

/// A client for the enclave's API, as the `oauth3` CLI and the tests use it.
public struct OAuth3Client: Sendable {
    public let baseURL: URL
    public let apiKey: String?
    /// The HTTP client requests go through (``HTTPTransport/shared`` unless the caller owns another).
    let http: HTTPClient

    /// How long an ordinary request may take; a long-poll gets its hold on top.
    static let requestTimeout = Duration.seconds(30)

    /// - Parameters:
    ///   - baseURL: the enclave, e.g. `http://127.0.0.1:8787`.
    ///   - apiKey: the tenant's key (or an orchestrator's JWT).
    ///   - httpClient: the HTTP client to use; whoever passes one shuts it down.
    public init(baseURL: URL, apiKey: String?, httpClient: HTTPClient = HTTPTransport.shared) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.http = httpClient
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

    /// One status request; with `wait`, the enclave holds it until the job changes (at most its limit, or
    /// ``longestHold``).
    public func status(_ id: String, wait: Bool = false) async throws -> ExecutionStatus {
        if wait { return try await status(id, holdingUpTo: Self.longestHold) }
        return try await send("GET", "/execute/\(id)/status", body: Optional<ExecuteRequest>.none)
    }

    /// One status request that the enclave holds until the job changes, for at most `hold` (rounded up to
    /// whole seconds): it sends `?wait=true&timeout=`, and the enclave caps the hold at its own limit too.
    public func status(_ id: String, holdingUpTo hold: Duration) async throws -> ExecutionStatus {
        let seconds = max(1, Int((Double(hold.components.seconds) + Double(hold.components.attoseconds) / 1e18).rounded(.up)))
        return try await send(
            "GET", "/execute/\(id)/status?wait=true&timeout=\(seconds)", body: Optional<ExecuteRequest>.none,
            timeout: Self.requestTimeout + .seconds(seconds))
    }

    /// The longest hold a client asks for: the enclave's default limit (`GatewayConfiguration.longPollSeconds`).
    public static let longestHold = Duration.seconds(120)

    /// Long-polls until the job is final or awaiting secrets, or until `timeout`; then returns the last status
    /// (with `status: "timeout"` if time ran out first). Each hold asks the enclave for no more than the
    /// time left, so the call returns within about `timeout`.
    public func poll(_ id: String, timeout: Duration) async throws -> ExecutionStatus {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var last = ExecutionStatus(requestId: id, status: "timeout")
        while clock.now < deadline {
            last = try await status(id, holdingUpTo: min(deadline - clock.now, Self.longestHold))
            if last.isFinal || last.status == "awaiting_secrets" { return last }
        }
        var timedOut = last
        timedOut.status = "timeout"
        timedOut.error = "no result after \(timeout)"
        return timedOut
    }

    /// Stores a secret; with `hosts`, bound to them (jobs get a placeholder; the proxy writes the value into headers to those hosts).
    public func putSecret(_ name: String, value: String, hosts: [String]? = nil) async throws {
        let _: [String: String] = try await send(
            "PUT", "/secrets/\(name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name)", body: SecretValue(value: value, hosts: hosts))
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
    /// enclave's message and, for an invalid skill header, its list of problems.
    func send<Body: Encodable, Reply: Decodable>(
        _ method: String, _ path: String, body: Body?, authenticated: Bool = true, timeout: Duration = requestTimeout
    ) async throws -> Reply {
        let url = baseURL.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path
        var headers = [("Accept", "application/json")]
        if authenticated, let apiKey { headers.append(("Authorization", "Bearer \(apiKey)")) }
        var data: Data?
        if let body {
            headers.append(("Content-Type", "application/json"))
            data = try JSONEncoder().encode(body)
        }
        let reply: (status: Int, body: Data)
        do {
            reply = try await HTTPTransport.exchange(http, method: method, url: url, headers: headers, body: data, timeout: timeout)
        } catch {
            throw OAuth3ClientError(status: nil, message: "cannot reach \(url): \(error)")
        }
        guard (200..<300).contains(reply.status) else {
            guard let error = try? JSONDecoder().decode(ErrorBody.self, from: reply.body) else {
                throw OAuth3ClientError(status: reply.status, message: String(decoding: reply.body, as: UTF8.self))
            }
            throw OAuth3ClientError(status: reply.status, message: error.error, problems: error.problems)
        }
        do {
            return try StrictJSON.decode(Reply.self, from: reply.body)
        } catch {
            throw OAuth3ClientError(status: reply.status, message: "unexpected reply to \(method) \(path): \(error)")
        }
    }
}

/// A failed API call: the HTTP status (if there was a reply), the enclave's message, and the problems it
/// listed (each problem of an invalid skill header, with its line and tag).
public struct OAuth3ClientError: Error, Sendable, CustomStringConvertible {
    public let status: Int?
    public let message: String
    public let problems: [ErrorBody.Problem]
    public init(status: Int?, message: String, problems: [ErrorBody.Problem]? = nil) {
        self.status = status
        self.message = message
        self.problems = problems ?? []
    }
    /// The message, then one line per problem (`line 3 @network: …`).
    public var description: String {
        let head = status.map { "HTTP \($0): \(message)" } ?? message
        return ([head] + problems.map { "  line \($0.line)\($0.tag.map { " @\($0)" } ?? ""): \($0.message)" }).joined(separator: "\n")
    }
}

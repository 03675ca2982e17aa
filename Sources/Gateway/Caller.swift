import Hummingbird

/// Who is calling: the tenant, and how it proved it.
public struct Caller: Sendable, Hashable {
    public enum Method: String, Sendable { case apiKey = "api_key", jwt }
    public let tenantId: String
    public let method: Method
    /// For orchestrator calls: where its approval UI lives (`X-Orchestrator-URL`).
    public let orchestratorURL: String?
}

/// The request context: Hummingbird's storage, plus the caller once authenticated.
public struct GatewayContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var caller: Caller?
    /// Decoding refuses bodies larger than this with 413; ``BodyLimitMiddleware`` sets the daemon's limit on
    /// every request (the context is made before any configuration can reach it).
    public var maxUploadSize: Int = 1 << 20

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// The authenticated caller; routes behind ``AuthMiddleware`` always have one.
    func requireCaller() throws(GatewayError) -> Caller {
        guard let caller else { throw .unauthorized("missing Authorization: Bearer <api_key or JWT>") }
        return caller
    }
}


/// Gives each request its application's body limit. Per application, not per process: two daemons in one
/// process (as the tests run them) each keep their own.
struct BodyLimitMiddleware: RouterMiddleware {
    let limit: Int

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        var context = context
        context.maxUploadSize = limit
        return try await next(request, context)
    }
}

import Hummingbird
import Synchronization

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
    /// Set by the application so decoding refuses oversized bodies with 413.
    public var maxUploadSize: Int { GatewayContext.bodyLimit.value }

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// The body limit of the running application (one per process).
    static let bodyLimit = BodyLimit()

    /// The authenticated caller; routes behind ``AuthMiddleware`` always have one.
    func requireCaller() throws(GatewayError) -> Caller {
        guard let caller else { throw .unauthorized("missing Authorization: Bearer <api_key or JWT>") }
        return caller
    }
}


/// A process-wide setting read by every request context.
final class BodyLimit: Sendable {
    private let storage = Atomic<Int>(1 << 20)
    var value: Int { storage.load(ordering: .relaxed) }
    func set(_ value: Int) { storage.store(value, ordering: .relaxed) }
}

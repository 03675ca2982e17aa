import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import Store

/// Turns `Authorization: Bearer …` into a ``Caller``. Two kinds of credential, and nothing else: an API
/// key from `/signup` (only its SHA-256 is stored) or an HS256 JWT `{tenant_id, plan, iat, exp}` signed
/// with the operator's secret. There is no configuration in which a request without one is let in.
///
/// The two kinds name disjoint tenants: `/signup` makes `tenant_…` ids, a JWT may not name one, and the
/// store refuses a JWT for any id that holds an API key (``OrchestratorToken``, `Store.ensureTenant`).
public struct Authenticator: Sendable {
    let store: any EnclaveStore
    let keys: JWTKeyCollection?
    let maxTokenLifetimeSeconds: Int
    let clock: any WallClock

    /// - Parameters:
    ///   - jwtSecret: the orchestrator's shared secret; `nil` accepts API keys only.
    ///   - maxTokenLifetimeSeconds: how far ahead of now a JWT's `exp` may be.
    ///   - clock: the clock `exp` is checked against.
    public init(store: any EnclaveStore, jwtSecret: String?, maxTokenLifetimeSeconds: Int = 24 * 3600, clock: any WallClock) async {
        self.store = store
        self.maxTokenLifetimeSeconds = maxTokenLifetimeSeconds
        self.clock = clock
        if let jwtSecret {
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: jwtSecret), digestAlgorithm: .sha256)
            self.keys = keys
        } else {
            self.keys = nil
        }
    }

    public func authenticate(_ request: Request) async throws(GatewayError) -> Caller {
        guard let header = request.headers[.authorization] else {
            throw .unauthorized("missing Authorization: Bearer <api_key or JWT>")
        }
        guard header.hasPrefix("Bearer "), case let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), !token.isEmpty else {
            throw .unauthorized("Authorization must be 'Bearer <api_key or JWT>'")
        }
        if token.split(separator: ".", omittingEmptySubsequences: false).count == 3 {
            return try await jwtCaller(token, request: request)
        }
        let tenant: TenantRecord?
        do {
            tenant = try await store.tenant(apiKeyHash: Identifiers.sha256(token))
        } catch let violation as IntegrityViolation {
            throw .internalError(violation.description)
        } catch { throw .internalError("cannot read tenants") }
        guard let tenant else { throw .unauthorized("unknown API key") }
        return Caller(tenantId: tenant.id, method: .apiKey, orchestratorURL: nil)
    }

    /// Header first (our rules), then the signature and claims (JWTKit), then lifetime and tenant (our
    /// rules, on our clock), then the tenant row.
    private func jwtCaller(_ token: String, request: Request) async throws(GatewayError) -> Caller {
        guard let keys else { throw .unauthorized("JWTs are not accepted: this enclave has no orchestrator secret configured") }
        try OrchestratorToken.checkHeader(of: token)
        let claims: OrchestratorClaims
        do {
            claims = try await keys.verify(token, as: OrchestratorClaims.self)
        } catch {
            throw .unauthorized("invalid JWT: \(error)")
        }
        try OrchestratorToken.check(claims, now: clock.now(), maxLifetimeSeconds: maxTokenLifetimeSeconds)
        if let forwarded = request.headers[HTTPField.Name("X-Tenant-ID")!], forwarded != claims.tenantId {
            throw .forbidden("X-Tenant-ID does not match the JWT's tenant_id")
        }
        do {
            _ = try await store.ensureTenant(id: claims.tenantId, plan: claims.plan ?? "free", at: clock.now())
        } catch let error as StoreError where error == .tenantHasAPIKey(claims.tenantId) {
            throw .forbidden("this tenant id belongs to an API-key account; a JWT cannot name it")
        } catch let violation as IntegrityViolation {
            throw .internalError(violation.description)
        } catch { throw .internalError("cannot record the tenant") }
        let orchestrator = request.headers[HTTPField.Name("X-Orchestrator-URL")!].flatMap { url in
            url.hasPrefix("https://") || url.hasPrefix("http://") ? url.trimmingSuffix("/") : nil
        }
        return Caller(tenantId: claims.tenantId, method: .jwt, orchestratorURL: orchestrator)
    }
}

/// Authenticates every request of the routes it guards.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = GatewayContext
    let authenticator: Authenticator

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.caller = try await authenticator.authenticate(request)
        return try await next(request, context)
    }
}

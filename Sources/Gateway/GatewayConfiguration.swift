import Foundation

/// How the daemon serves: address, public URL, limits, and the orchestrator's JWT secret. Built once at
/// start (from flags and environment variables) and passed down.
public struct GatewayConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The base of approval links and `status_url`s, as agents and approvers reach the daemon.
    public var publicURL: String
    /// Whether ``publicURL`` was derived from host and port (then a port of 0 is replaced by the real one).
    public let publicURLIsDerived: Bool
    /// Jobs running at once.
    public var workers: Int
    /// Approved jobs waiting for a worker; past this, `POST /execute` answers 429.
    public var queueLimit: Int
    /// HS256 secret shared with an orchestrator that forwards for its tenants. `nil`: API keys only.
    public var jwtSecret: String?
    /// How far ahead of now a JWT's `exp` may lie; a token promising to live longer is refused.
    public var jwtMaxLifetimeSeconds: Int
    /// Whether `POST /signup` creates tenants (the SDK signs up automatically on first use).
    public var signupOpen: Bool
    /// Largest request body accepted.
    public var maxBodyBytes: Int
    /// Longest a `?wait=true` status request is held.
    public var longPollSeconds: Int
    /// How long an approval link stays valid.
    public var approvalTokenLifetimeSeconds: Int
    /// On shutdown, how long running jobs may finish before they are stopped and marked `failed`.
    public var shutdownGraceSeconds: Int
    /// How long `GET /readyz` reuses the guest agent's last answer (probes stay cheap; 0 asks every time).
    public var guestAgentProbeSeconds: Int

    public init(
        host: String = "127.0.0.1", port: Int = 8787, publicURL: String? = nil,
        workers: Int = ProcessInfo.processInfo.activeProcessorCount, queueLimit: Int = 64, jwtSecret: String? = nil,
        signupOpen: Bool = true, maxBodyBytes: Int = 1 << 20, longPollSeconds: Int = 120,
        approvalTokenLifetimeSeconds: Int = 24 * 3600, shutdownGraceSeconds: Int = 10, guestAgentProbeSeconds: Int = 10,
        jwtMaxLifetimeSeconds: Int = 24 * 3600
    ) {
        self.host = host
        self.port = port
        self.publicURL = (publicURL ?? "http://\(host):\(port)").trimmingSuffix("/")
        self.publicURLIsDerived = publicURL == nil
        self.workers = max(1, workers)
        self.queueLimit = max(1, queueLimit)
        self.jwtSecret = jwtSecret
        self.signupOpen = signupOpen
        self.maxBodyBytes = maxBodyBytes
        self.longPollSeconds = longPollSeconds
        self.approvalTokenLifetimeSeconds = approvalTokenLifetimeSeconds
        self.shutdownGraceSeconds = shutdownGraceSeconds
        self.guestAgentProbeSeconds = guestAgentProbeSeconds
        self.jwtMaxLifetimeSeconds = jwtMaxLifetimeSeconds
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}

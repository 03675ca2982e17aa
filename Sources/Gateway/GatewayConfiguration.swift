import Foundation
import Store

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
    /// What one tenant may hold at once.
    public var quotas: TenantQuotas
    /// Jobs one tenant may run at once while another tenant has work too (default: one less than the workers).
    public var tenantMaxRunning: Int
    /// How long a finished job keeps its code and result before they are trimmed (its row stays).
    public var resultRetentionSeconds: Int
    /// How often the scheduler sweeps: stranded jobs, expired requests, old results.
    public var sweepInterval: Duration
    /// A connection closes when no request head (or body part) arrives for this long, and when an idle
    /// keep-alive connection has no new request for this long. Held long-polls are not idle.
    public var idleTimeoutSeconds: Int
    /// Open HTTP connections at most. A little below it, each new connection closes the one idle the
    /// longest (``ConnectionRegistry``); only when every connection is in a request do new ones wait in the
    /// listen backlog. The soft descriptor limit is raised at start to hold these plus the jobs' descriptors.
    public var maxConnections: Int

    public init(
        host: String = "127.0.0.1", port: Int = 8787, publicURL: String? = nil,
        workers: Int = ProcessInfo.processInfo.activeProcessorCount, queueLimit: Int = 64, jwtSecret: String? = nil,
        signupOpen: Bool = true, maxBodyBytes: Int = 1 << 20, longPollSeconds: Int = 120,
        approvalTokenLifetimeSeconds: Int = 24 * 3600, shutdownGraceSeconds: Int = 10, guestAgentProbeSeconds: Int = 10,
        quotas: TenantQuotas = TenantQuotas(), tenantMaxRunning: Int? = nil, resultRetentionSeconds: Int = 30 * 24 * 3600,
        sweepInterval: Duration = .seconds(5), idleTimeoutSeconds: Int = 15, maxConnections: Int = 4096,
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
        self.quotas = quotas
        self.tenantMaxRunning = max(1, tenantMaxRunning ?? FairShare.defaultCap(workers: self.workers))
        self.resultRetentionSeconds = resultRetentionSeconds
        self.sweepInterval = sweepInterval
        self.idleTimeoutSeconds = max(1, idleTimeoutSeconds)
        self.maxConnections = max(16, maxConnections)
    }

    /// The store's admission limits for this configuration.
    var admissionLimits: AdmissionLimits {
        AdmissionLimits(
            queuedJobs: queueLimit, pendingRequests: quotas.pendingRequests, activeJobs: quotas.activeJobs, storedBytes: quotas.storedBytes)
    }
}

/// What one tenant may hold at once. Over a quota, a request is answered 429 with `Retry-After` and the
/// quota's name; nothing is stored.
public struct TenantQuotas: Sendable, Hashable {
    /// Requests waiting for a person (`pending`, `pending_scope`, `awaiting_secrets`).
    public var pendingRequests: Int
    /// Jobs approved and waiting, or running.
    public var activeJobs: Int
    /// `?wait=true` status requests held open.
    public var longPolls: Int
    /// Bytes of code and results stored (results age out after the retention period).
    public var storedBytes: Int

    public init(pendingRequests: Int = 100, activeJobs: Int = 16, longPolls: Int = 32, storedBytes: Int = 256 << 20) {
        self.pendingRequests = max(1, pendingRequests)
        self.activeJobs = max(1, activeJobs)
        self.longPolls = max(1, longPolls)
        self.storedBytes = max(1, storedBytes)
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}

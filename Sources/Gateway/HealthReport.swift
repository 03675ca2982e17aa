

/// `GET /healthz`: liveness (the process serves requests), and how it isolates jobs. Whether to send it work
/// is ``ReadinessReport``.
public struct HealthReport: Codable, Sendable {
    public var status = "ok"
    public var denoVersion: String
    public var userNamespace: Bool
    public var cgroups: String
    public var vaultKeySource: String
    public var workers: Int
    public var running: Int
    public var queued: Int
    public var policySha256: String
    /// Which guest agent quotes results: `dstack:/var/run/dstack.sock` or `development:…`.
    public var guestAgent: String
    public var appID: String
    public var composeHash: String

    enum CodingKeys: String, CodingKey {
        case status, denoVersion = "deno_version", userNamespace = "user_namespace", cgroups, vaultKeySource = "vault_key_source"
        case workers, running, queued, policySha256 = "policy_sha256", guestAgent = "guest_agent", appID = "app_id", composeHash = "compose_hash"
    }
}

/// `GET /readyz`: whether the daemon can take a job and finish it with an attested result now.
///
/// `/healthz` says the process is alive (and describes it); this says whether to send it work. Every
/// check is cheap: one `SELECT 1`, facts found at start, the guest agent's `/Info` at most once per
/// `GatewayConfiguration.guestAgentProbeSeconds`, an actor's flag. The reply is 200 when all pass, 503 otherwise, with the
/// same body, so a probe needs only the status and a human gets the reason.
public struct ReadinessReport: Codable, Sendable {
    /// One condition and whether it holds.
    public struct Check: Codable, Sendable {
        public var name: String
        public var ok: Bool
        public var detail: String
    }

    /// `ready` or `not_ready`.
    public var status: String
    public var checks: [Check]

    public init(checks: [Check]) {
        self.checks = checks
        status = checks.allSatisfy(\.ok) ? "ready" : "not_ready"
    }

    /// Whether every check passed.
    public var isReady: Bool { status == "ready" }
}

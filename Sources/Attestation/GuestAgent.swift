import DCAPVerifier

/// The TEE's guest agent: quotes over chosen report data, keys derived for this application, and the
/// application's identity. Two implementations speak the same HTTP API over a unix socket: dstack's
/// own agent (`/var/run/dstack.sock`) and the development agent (`oauth3-enclave dev-guest-agent`), so
/// the daemon runs the same code in production and development; only the root of the quote differs.
public protocol GuestAgent: Sendable {
    /// Where it is, for `/healthz` and logs (`dstack:/var/run/dstack.sock`, `development:…`).
    var name: String { get }
    /// A quote whose report_data is `reportData` (at most 64 bytes, zero-padded), with the event log.
    func quote(reportData: [UInt8]) async throws(AttestationError) -> QuoteReply
    /// A key derived for this application from `path` and `purpose`; stable across restarts of the same app.
    func key(path: String, purpose: String) async throws(AttestationError) -> [UInt8]
    /// The application's identity.
    func info() async throws(AttestationError) -> GuestInfo
}

/// A quote and the event log that explains its RTMRs.
public struct QuoteReply: Sendable, Hashable {
    public let quote: [UInt8]
    /// The event log as the agent sent it (a JSON array), kept verbatim for auditors.
    public let eventLogJSON: String

    public init(quote: [UInt8], eventLogJSON: String) {
        self.quote = quote
        self.eventLogJSON = eventLogJSON
    }
}

/// The application's identity, as the guest agent reports it.
public struct GuestInfo: Sendable, Hashable, Codable {
    public var appID: String
    public var instanceID: String
    public var composeHash: String
    public var appName: String?

    public init(appID: String, instanceID: String, composeHash: String, appName: String? = nil) {
        self.appID = appID
        self.instanceID = instanceID
        self.composeHash = composeHash
        self.appName = appName
    }

    enum CodingKeys: String, CodingKey { case appID = "app_id", instanceID = "instance_id", composeHash = "compose_hash", appName = "app_name" }
}

/// Why the guest agent could not answer.
public struct AttestationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

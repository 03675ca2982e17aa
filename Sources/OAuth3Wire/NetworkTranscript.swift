/// What a job did on the network, as its proxy saw it: every connection it made and every attempt that
/// was refused. Part of the result, and so covered by the result's attestation.
///
/// Times are milliseconds since the proxy started (integers only: results are hashed in a canonical
/// JSON that has no floats).
///
/// Lives in `OAuth3Wire` because it is part of the attested result (``RunResult/network``). A new part of
/// the transcript (say, the bound-secret substitutions the proxy made) is one property with a default
/// value and its `CodingKeys` case: ``AttestedResult``'s encoding, hash, store and `verify` follow.
public struct NetworkTranscript: Sendable, Codable, Hashable {
    /// One relayed connection.
    public struct Connection: Sendable, Codable, Hashable {
        /// The name the job asked for, and its port.
        public var host: String
        public var port: Int
        /// The vetted address the proxy connected to.
        public var address: String
        /// `connect` (a tunnel, usually TLS) or `http` (one plain-HTTP request).
        public var kind: String
        /// Bytes from the job to the server, and back (the request head the proxy rewrote counts as sent).
        public var bytesSent: Int
        public var bytesReceived: Int
        public var startedMs: Int
        public var durationMs: Int
        /// `closed`, `byte_limit` (the proxy cut it), or `job_ended` (the server had not closed its side when the
        /// job ended). The duration runs until the server closed, or else until the connection ended.
        public var end: String

        enum CodingKeys: String, CodingKey {
            case host, port, address, kind, bytesSent = "bytes_sent", bytesReceived = "bytes_received"
            case startedMs = "started_ms", durationMs = "duration_ms", end
        }

        public init(
            host: String, port: Int, address: String, kind: String, bytesSent: Int, bytesReceived: Int, startedMs: Int, durationMs: Int, end: String
        ) {
            self.host = host
            self.port = port
            self.address = address
            self.kind = kind
            self.bytesSent = bytesSent
            self.bytesReceived = bytesReceived
            self.startedMs = startedMs
            self.durationMs = durationMs
            self.end = end
        }
    }

    /// One refused attempt.
    public struct Refusal: Sendable, Codable, Hashable {
        /// What the job asked for, when the request got that far.
        public var host: String?
        public var port: Int?
        /// A short code (`EgressRefusal.code` in `Egress`) and the sentence the job was sent.
        public var code: String
        public var reason: String
        public var atMs: Int

        enum CodingKeys: String, CodingKey { case host, port, code, reason, atMs = "at_ms" }

        public init(host: String?, port: Int?, code: String, reason: String, atMs: Int) {
            self.host = host
            self.port = port
            self.code = code
            self.reason = reason
            self.atMs = atMs
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(host, forKey: .host)
            try container.encode(port, forKey: .port)
            try container.encode(code, forKey: .code)
            try container.encode(reason, forKey: .reason)
            try container.encode(atMs, forKey: .atMs)
        }
    }

    public var connections: [Connection] = []
    public var refused: [Refusal] = []
    /// Refusals past the first 256, counted but not listed.
    public var refusalsNotRecorded: Int = 0
    /// Bytes relayed in both directions, over all connections.
    public var totalBytes: Int = 0

    enum CodingKeys: String, CodingKey {
        case connections, refused, refusalsNotRecorded = "refusals_not_recorded", totalBytes = "total_bytes"
    }

    public init() {}

    /// The same transcript with `transform` applied to every string the job chose (host names, and the
    /// reasons that quote them), so the daemon can redact secrets from it as it does from stdout.
    public func redacted(_ transform: (String) -> String) -> NetworkTranscript {
        var copy = self
        for index in copy.connections.indices { copy.connections[index].host = transform(copy.connections[index].host) }
        for index in copy.refused.indices {
            copy.refused[index].host = copy.refused[index].host.map(transform)
            copy.refused[index].reason = transform(copy.refused[index].reason)
        }
        return copy
    }
}

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
        /// `connect` (a tunnel, usually TLS), `http` (one plain-HTTP request), or `intercepted` (a CONNECT of
        /// a job holding bound secrets, whose TLS the proxy terminated; its requests are in ``NetworkTranscript/requests``).
        public var kind: String
        /// Bytes from the job to the server, and back (the request head the proxy rewrote counts as sent).
        public var bytesSent: Int
        public var bytesReceived: Int
        public var startedMs: Int
        public var durationMs: Int
        /// `closed`, `byte_limit` (the proxy cut it), `placeholder` (the proxy cut a plain-HTTP request that
        /// carried a bound secret's placeholder), or `job_ended` (the server had not closed its side when the
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

    /// One HTTP request of a job holding bound secrets, as the proxy saw it inside the TLS it terminated.
    public struct Request: Sendable, Codable, Hashable {
        public var method: String
        public var host: String
        public var port: Int
        /// The path, with each query value dropped (`/search?q=&page=`): values can be anything the job chose.
        public var path: String
        /// The upstream's status, `nil` when no response came (or the request was refused).
        public var status: Int?
        /// The bound secrets whose values the proxy wrote into this request's headers (names only).
        public var substituted: [String]
        /// The refusal code (``EgressRefusal/code``) when the proxy refused the request instead of sending it.
        public var refusal: String?

        public init(method: String, host: String, port: Int, path: String, status: Int? = nil, substituted: [String] = [], refusal: String? = nil) {
            self.method = method
            self.host = host
            self.port = port
            self.path = path
            self.status = status
            self.substituted = substituted
            self.refusal = refusal
        }

        enum CodingKeys: String, CodingKey { case method, host, port, path, status, substituted, refusal }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(method, forKey: .method)
            try container.encode(host, forKey: .host)
            try container.encode(port, forKey: .port)
            try container.encode(path, forKey: .path)
            try container.encode(status, forKey: .status)
            try container.encode(substituted, forKey: .substituted)
            try container.encode(refusal, forKey: .refusal)
        }

        /// `uri`'s path with every query value removed (names kept), and no fragment.
        public static func pathWithoutQueryValues(_ uri: String) -> String {
            let withoutFragment = uri.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
            guard let question = withoutFragment.firstIndex(of: "?") else { return withoutFragment }
            let names = withoutFragment[withoutFragment.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map {
                String($0.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? "") + "="
            }
            return String(withoutFragment[..<question]) + "?" + names.joined(separator: "&")
        }
    }

    public var connections: [Connection] = []
    public var refused: [Refusal] = []
    /// Refusals past the first 256, counted but not listed.
    public var refusalsNotRecorded: Int = 0
    /// Bytes relayed in both directions, over all connections.
    public var totalBytes: Int = 0
    /// Each HTTP request, for a job holding bound secrets (whose TLS the proxy terminates); absent for
    /// every other job, whose requests the proxy cannot see.
    public var requests: [Request]?
    /// Requests past the first ``EgressLedger/maxRequestsRecorded``, counted but not listed (absent when `requests` is).
    public var requestsNotRecorded: Int?

    enum CodingKeys: String, CodingKey {
        case connections, refused, refusalsNotRecorded = "refusals_not_recorded", totalBytes = "total_bytes", requests
        case requestsNotRecorded = "requests_not_recorded"
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
        for index in (copy.requests ?? []).indices {
            copy.requests![index].host = transform(copy.requests![index].host)
            copy.requests![index].path = transform(copy.requests![index].path)
            copy.requests![index].method = transform(copy.requests![index].method)
        }
        return copy
    }
}

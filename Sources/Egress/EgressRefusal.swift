/// Where a job asked to go: a host name (or what it wrote in its place) and a port.
public struct ProxyTarget: Sendable, Hashable, CustomStringConvertible {
    /// Lowercased; brackets kept for IPv6 literals, so they are recognisably not names.
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host.lowercased()
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// Why the proxy refused a request. Each reason becomes a line in the network transcript and the body
/// of the proxy's `403`, which is what the skill sees as a failed fetch.
public enum EgressRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// The request was not a proxy request the proxy understands.
    case badRequest(String)
    /// An IP literal: jobs may name only the hosts they declared.
    case rawAddress(String)
    /// A host and port outside the job's `@network`.
    case undeclared(ProxyTarget)
    /// The name did not resolve (or the resolver failed).
    case unresolved(String, reason: String)
    /// The name resolved into a refused range; `widenable` is false for the built-in floor.
    case refusedAddress(IPAddress, range: IPRange, widenable: Bool)
    /// The job reached its connection budget (`total` or concurrent).
    case connectionLimit(Int, concurrent: Bool)
    /// The job already relayed its whole byte budget.
    case byteLimit(Int)
    /// Every vetted address failed to connect.
    case unreachable(String)
    /// A bound secret's placeholder in a request header to a host the secret is not bound to.
    case placeholderUnbound(secret: String, ProxyTarget)
    /// A bound secret's placeholder in a request's URL (path or query).
    case placeholderInURL(secret: String)
    /// A bound secret's placeholder in a request's body.
    case placeholderInBody(secret: String)
    /// A bound secret's placeholder in plain HTTP, which is never substituted.
    case placeholderInPlainHTTP(secret: String)
    /// The upstream of an intercepted connection failed TLS verification (or TLS at all).
    case upstreamTLS(String)

    /// Every ``code``, in a fixed order (metrics label their series with these, and only these).
    public static let codes = [
        "bad_request", "raw_address", "undeclared", "unresolved", "refused_address", "connection_limit", "byte_limit", "unreachable",
        "placeholder_unbound", "placeholder_in_url", "placeholder_in_body", "placeholder_in_plain_http", "upstream_tls",
    ]

    /// A short machine-readable name.
    public var code: String {
        switch self {
        case .badRequest: "bad_request"
        case .rawAddress: "raw_address"
        case .undeclared: "undeclared"
        case .unresolved: "unresolved"
        case .refusedAddress: "refused_address"
        case .connectionLimit: "connection_limit"
        case .byteLimit: "byte_limit"
        case .unreachable: "unreachable"
        case .placeholderUnbound: "placeholder_unbound"
        case .placeholderInURL: "placeholder_in_url"
        case .placeholderInBody: "placeholder_in_body"
        case .placeholderInPlainHTTP: "placeholder_in_plain_http"
        case .upstreamTLS: "upstream_tls"
        }
    }

    public var description: String {
        switch self {
        case .badRequest(let detail): "not a proxy request: \(detail)"
        case .rawAddress(let host): "\(host) is an IP address; only the host names in @network are reachable"
        case .undeclared(let target): "\(target) is not in the skill's @network"
        case .unresolved(let host, let reason): "\(host) did not resolve: \(reason)"
        case .refusedAddress(let address, let range, let widenable):
            "resolves to \(address), inside the refused range \(range)" + (widenable ? "" : " (never reachable)")
        case .connectionLimit(let limit, let concurrent):
            concurrent ? "more than \(limit) connections open at once" : "the job's \(limit) connections are used up"
        case .byteLimit(let limit): "the job's \(limit)-byte network budget is used up"
        case .unreachable(let detail): "could not connect: \(detail)"
        case .placeholderUnbound(let secret, let target):
            "the placeholder of \(secret) is in a header to \(target), which \(secret) is not bound to; the request was not sent"
        case .placeholderInURL(let secret): "the placeholder of \(secret) is in the URL; a bound secret goes in a header only; the request was not sent"
        case .placeholderInBody(let secret): "the placeholder of \(secret) is in the body; a bound secret goes in a header only; the request was not sent"
        case .placeholderInPlainHTTP(let secret):
            "the placeholder of \(secret) is in a plain-HTTP request; a bound secret is sent over verified TLS only; the request was cut"
        case .upstreamTLS(let detail): "the upstream's TLS failed: \(detail)"
        }
    }
}

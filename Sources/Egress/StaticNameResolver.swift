/// Fixed answers instead of DNS: for the proxy benchmark (a name for its loopback server) and tests.
/// Never used for real jobs, which always get a ``DNSResolver``.
public struct StaticNameResolver: NameResolver {
    public let answers: [String: [IPAddress]]

    public init(_ answers: [String: [IPAddress]]) { self.answers = answers }

    public func resolve(_ host: String) async -> Result<[IPAddress], DNSFailure> {
        answers[host].map { .success($0) } ?? .failure(.noSuchName)
    }
}

import NIOSSL

/// What a job holding bound secrets needs from its egress proxy: the secrets (placeholder, value, hosts),
/// the job's own certificate authority, and the TLS client context for re-originating each connection.
///
/// With one of these, the proxy terminates every CONNECT of the job with TLS, reads each request with
/// NIO's HTTP/1.1 codec, writes bound values into the headers of requests to their hosts, refuses a
/// placeholder anywhere else, and re-encrypts to the real host with full certificate verification.
/// Without it (every job that holds no bound secret) CONNECT stays an opaque tunnel.
public struct EgressInterception: Sendable {
    public let secrets: [BoundSecret]
    public let authority: InterceptionAuthority
    /// The client side: system roots (plus ``init(secrets:authority:extraTrustRootsPEM:)``'s extra ones),
    /// full verification of chain and name, ALPN `http/1.1` only.
    let upstream: NIOSSLContext

    /// - Parameters:
    ///   - extraTrustRootsPEM: a PEM file of certificates trusted for upstreams besides the system's roots
    ///     (a deployment's own internal CA; the tests' local HTTPS host). `nil` for the system's roots alone.
    /// - Throws: when the file cannot be read or TLS cannot be set up.
    public init(secrets: [BoundSecret], authority: InterceptionAuthority, extraTrustRootsPEM: String? = nil) throws {
        self.secrets = secrets
        self.authority = authority
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        configuration.trustRoots = .default
        if let extraTrustRootsPEM {
            configuration.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(extraTrustRootsPEM))]
        }
        configuration.applicationProtocols = ["http/1.1"]
        configuration.minimumTLSVersion = .tlsv12
        upstream = try NIOSSLContext(configuration: configuration)
    }
}

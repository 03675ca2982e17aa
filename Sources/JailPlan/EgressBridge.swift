/// The one way out of a job's network namespace: a process inside the namespace that listens on
/// `127.0.0.1:port` and carries every connection, byte for byte, to the daemon's egress proxy over a
/// unix socket bound into the job's root. Unix sockets are files, so they cross network namespaces; the
/// seccomp filter keeps Deno itself from opening any (Anthropic's sandbox-runtime bridges the same way).
///
/// The bridge holds no policy: the proxy decides. It runs as the job's user with no capabilities,
/// `no_new_privs` and a seccomp filter of its own (`EgressBridge.filter`, in `Jail`), forks one short-lived relay per connection,
/// and dies with the namespace's init.
public struct EgressBridge: Sendable, Hashable {
    /// The loopback port Deno's `HTTP_PROXY`/`HTTPS_PROXY` point at.
    public var port: UInt16
    /// The proxy's unix socket, as a path inside the job's root.
    public var socketPath: String

    public init(port: UInt16, socketPath: String) {
        self.port = port
        self.socketPath = socketPath
    }
}

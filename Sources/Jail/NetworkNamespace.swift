import CJailShims

/// Layer: the job's network namespace. It starts with a single interface, loopback, and that interface
/// down; bringing it up is the only change the jail makes, so a job can reach exactly the listeners that
/// exist inside its own namespace (the ``EgressBridge``, when the job declared hosts) and nothing else.
/// There is no route out: no other interface, no default route, no name server.
enum NetworkNamespace {
    /// Sets loopback up. Runs while the jail still holds CAP_NET_ADMIN over the namespace.
    static func bringUpLoopback() throws(JailFailure) {
        guard cjail_loopback_up() == 0 else { throw failure(.network, "bringing up lo") }
    }
}

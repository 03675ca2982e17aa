import CJailShims

/// Stage: a prepared jail's wait for its job (``JailConfiguration/prepared``).
///
/// Init has built the whole sandbox (namespaces, root, loopback, identity, capabilities, `no_new_privs`)
/// when it gets here; it tells the daemon so with one byte on stdout and blocks on stdin, where a claim
/// brings what differs per job: ``JobClaim`` (arguments, rlimits, egress bridge), then the environment
/// block. Both are read with exact-length reads, so the rest of stdin is the program's. A daemon that
/// retires the jail instead kills it; a daemon that dies closes stdin, and the jail exits.
/// A booted jail's claim must repeat the arguments and limits its program started with (``Boot``), and
/// while it waits init also watches that program: one that ends before its job fails the jail, so the
/// daemon discards it rather than hand it a job.
enum Claim {
    static func receive(into configuration: inout JailConfiguration, watching program: pid_t? = nil) throws(JailFailure) -> Environment {
        var signal = JailConfiguration.preparedSignal
        guard write(1, &signal, 1) == 1 else { throw failure(.claim, "telling the daemon the jail is prepared") }
        if let program { try awaitInput(orEndOf: program) }
        let header = UnsafeMutableRawBufferPointer.allocate(byteCount: JobClaim.headerSize, alignment: 1)
        defer { header.deallocate() }
        try Environment.readExactly(0, into: header, what: "job claim's header", stage: .claim)
        let length = try JobClaim.bodyLength(header: UnsafeRawBufferPointer(header))
        let body = UnsafeMutableRawBufferPointer.allocate(byteCount: max(length, 1), alignment: 1)
        defer { body.deallocate() }
        let used = UnsafeMutableRawBufferPointer(rebasing: body[0..<length])
        try Environment.readExactly(0, into: used, what: "job claim", stage: .claim)
        let claim = try JobClaim(body: UnsafeRawBufferPointer(used))
        if configuration.booted != nil {
            guard claim.arguments == configuration.arguments, claim.resourceLimits == configuration.resourceLimits else {
                throw JailFailure(.claim, "the claim's arguments or limits differ from those the booted program started with")
            }
            configuration.egressBridge = claim.egressBridge
        } else {
            configuration.apply(claim)
        }
        return try Environment.read(from: 0)
    }

    /// Blocks until stdin has something (the claim, or its end), or fails if `program` ends first.
    private static func awaitInput(orEndOf program: pid_t) throws(JailFailure) {
        let pidfd = cjail_pidfd_open(program)
        guard pidfd >= 0 else { return }  // no pidfds: the claim's hand-over finds a dead program instead
        defer { close(pidfd) }
        var entries = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0), pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
        while true {
            let ready = poll(&entries, 2, -1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { throw failure(.claim, "waiting for the claim") }
            if entries[0].revents != 0 { return }
            if entries[1].revents != 0 { throw JailFailure(.boot, "the booted program ended before its job arrived") }
        }
    }
}

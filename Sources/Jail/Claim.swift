/// Stage: a prepared jail's wait for its job (``JailConfiguration/prepared``).
///
/// Init has built the whole sandbox (namespaces, root, loopback, identity, capabilities, `no_new_privs`)
/// when it gets here; it tells the daemon so with one byte on stdout and blocks on stdin, where a claim
/// brings what differs per job: ``JobClaim`` (arguments, rlimits, egress bridge), then the environment
/// block. Both are read with exact-length reads, so the rest of stdin is the program's. A daemon that
/// retires the jail instead kills it; a daemon that dies closes stdin, and the jail exits.
enum Claim {
    static func receive(into configuration: inout JailConfiguration) throws(JailFailure) -> Environment {
        var signal = JailConfiguration.preparedSignal
        guard write(1, &signal, 1) == 1 else { throw failure(.claim, "telling the daemon the jail is prepared") }
        let header = UnsafeMutableRawBufferPointer.allocate(byteCount: JobClaim.headerSize, alignment: 1)
        defer { header.deallocate() }
        try Environment.readExactly(0, into: header, what: "job claim's header", stage: .claim)
        let length = try JobClaim.bodyLength(header: UnsafeRawBufferPointer(header))
        let body = UnsafeMutableRawBufferPointer.allocate(byteCount: max(length, 1), alignment: 1)
        defer { body.deallocate() }
        let used = UnsafeMutableRawBufferPointer(rebasing: body[0..<length])
        try Environment.readExactly(0, into: used, what: "job claim", stage: .claim)
        configuration.apply(try JobClaim(body: UnsafeRawBufferPointer(used)))
        return try Environment.read(from: 0)
    }
}

import CJailShims

/// The egress bridge's process (``EgressBridge``): listening, forking, and relaying, applied in the jail.
extension EgressBridge {
    /// Binds and listens on `127.0.0.1:port`, before the program starts, so its first connection finds
    /// the bridge ready.
    func listen() throws(JailFailure) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure(.network, "socket for the egress bridge") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 64) == 0 else { throw failure(.network, "listening on 127.0.0.1:\(port)") }
        return fd
    }

    /// Forks the bridge process; in the caller the listener is closed again.
    func start(listening listener: Int32) throws(JailFailure) {
        let pid = fork()
        guard pid >= 0 else { throw failure(.fork, "fork (egress bridge)") }
        if pid == 0 { serve(listener) }
        close(listener)
    }

    /// The bridge process: accept, fork a relay, repeat.
    private func serve(_ listener: Int32) -> Never {
        if (try? Parent.dieWith(signal: SIGKILL)) == nil { _exit(1) }
        Glibc.signal(SIGCHLD, SIG_IGN)  // relays are reaped by the kernel
        Glibc.signal(SIGPIPE, SIG_IGN)  // a peer that went away is an error return, not a death
        // Nothing of the jail's: no status pipes, no stdout (the daemon reads it to EOF), only the listener.
        let null = open("/dev/null", O_RDWR)
        if null >= 0 { for fd: Int32 in 0...2 { dup2(null, fd) } }
        if listener > 3 { _ = cjail_close_range(3, UInt32(listener) - 1) }
        _ = cjail_close_range(UInt32(listener) + 1, UInt32.max)
        if (try? Seccomp.load(Self.filter)) == nil { _exit(1) }
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE { continue }
                _exit(1)
            }
            let relay = fork()
            if relay == 0 {
                close(listener)
                connectAndPump(client)
            }
            close(client)
        }
    }

    /// What the bridge and its relays may call once set up: accept, fork, a unix stream socket, and the
    /// pump's reads, writes and polls. Anything else kills the process. (Deno has its own, wider filter.)
    static let filter = SeccompPolicy(
        defaultAction: .killProcess,
        rules: [
            "accept", "accept4", "read", "write", "poll", "ppoll", "close", "connect", "fcntl", "shutdown", "clone",
            "exit", "exit_group", "brk", "mmap", "munmap", "mremap", "madvise", "mprotect", "futex", "rt_sigprocmask",
            "rt_sigreturn", "set_robust_list", "getpid", "gettid", "sched_yield", "restart_syscall",
        ].map { SeccompPolicy.Rule(.allow, $0) } + [
            // glibc's fork tries clone3 first on newer releases; clone then serves.
            SeccompPolicy.Rule(.errno(38), "clone3"),
            SeccompPolicy.Rule(.allow, "socket", [.init(index: 0, op: .eq, value: 1), .init(index: 1, op: .maskedEq, value: 1, mask: 15)]),
        ])

    /// One relay: connect to the proxy's socket, then pump both ways until both sides are done.
    private func connectAndPump(_ client: Int32) -> Never {
        let upstream = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard upstream >= 0 else { _exit(1) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { _exit(1) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { _exit(1) }
        Pump.run(client, upstream)
    }
}

/// Copies bytes both ways between two sockets with one buffer per direction, never blocking on one
/// side while the other has something to say; an end of stream becomes a half-close on the other side.
enum Pump {
    static func run(_ a: Int32, _ b: Int32) -> Never {
        for fd in [a, b] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        var directions = [Direction(from: a, to: b), Direction(from: b, to: a)]
        while directions.contains(where: { !$0.done }) {
            var polls: [pollfd] = []
            for direction in directions where !direction.done {
                polls.append(pollfd(fd: direction.pending ? direction.to : direction.from,
                                    events: Int16(direction.pending ? POLLOUT : POLLIN), revents: 0))
            }
            guard poll(&polls, nfds_t(polls.count), -1) >= 0 || errno == EINTR else { _exit(1) }
            for index in directions.indices where !directions[index].done {
                guard directions[index].step() else { _exit(0) }
            }
        }
        _exit(0)
    }

    struct Direction {
        let from: Int32
        let to: Int32
        /// One buffer for the relay's life; bytes `[start, end)` are read and not yet written.
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        var start = 0
        var end = 0
        var sawEnd = false
        var pending: Bool { start < end }
        var done: Bool { sawEnd && !pending }

        init(from: Int32, to: Int32) {
            self.from = from
            self.to = to
        }

        /// Reads or writes what is ready without blocking. `false` on an error that ends the relay.
        mutating func step() -> Bool {
            if !pending, !sawEnd {
                let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
                if count > 0 {
                    (start, end) = (0, count)
                } else if count == 0 {
                    sawEnd = true
                } else if errno != EAGAIN && errno != EINTR {
                    return false
                }
            }
            if pending {
                let written = buffer.withUnsafeBytes { write(to, $0.baseAddress! + start, end - start) }
                if written > 0 {
                    start += written
                } else if written < 0 && errno != EAGAIN && errno != EINTR {
                    return false
                }
            }
            if done { shutdown(to, Int32(SHUT_WR)) }
            return true
        }
    }
}

import CJailShims

/// Layer: a job lives no longer than the daemon that supervises it.
///
/// If the daemon dies (`kill -9`, a crash), nobody reads the job's output, enforces its timeout or
/// records its result, and the job's secrets would sit in a process nobody watches. The jail (outside)
/// holds a pidfd of the daemon and waits on it beside the status channel; when the daemon is gone it
/// kills init of the job's pid namespace, which takes every process of the job with it.
///
/// Why not the parent-death signal: it fires when the *thread* that forked the jail exits, and the
/// daemon forks from pooled threads that come and go. A pidfd names the process.
struct DaemonWatch {
    /// Readable once the daemon has exited; `-1` where pidfds are missing (then the pid is probed with
    /// signal 0, which also holds after the session's extra fork, where the jail's parent is not the daemon).
    let descriptor: Int32
    private let daemon: pid_t

    /// Watches the jail's parent, which must be alive now (the jail was just started by it).
    /// - Parameter supervisor: the daemon's pid as it named itself. Its being our parent after the pidfd is
    ///   open proves the pidfd names the live daemon. Without it, a parent of pid 1 is taken as a sign the
    ///   daemon died and the jail was reparented; with it, a daemon that is pid 1 (a container's entrypoint
    ///   exec'd it) is accepted, since a pid namespace's init cannot die without taking the jail along.
    init(supervisor: Int32?) throws(JailFailure) {
        daemon = getppid()
        descriptor = cjail_pidfd_open(daemon)
        let expected = supervisor ?? daemon
        guard getppid() == daemon, daemon == expected, supervisor != nil || daemon != 1 else {
            throw failure(.session, "the daemon that started the jail is gone")
        }
    }

    /// Whether the daemon is still alive.
    var daemonAlive: Bool {
        if descriptor >= 0 {
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            return poll(&entry, 1, 0) == 0
        }
        return kill(daemon, 0) == 0 || errno == EPERM
    }
}

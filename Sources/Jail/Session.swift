import CJailShims

/// Layer: a session and process group of its own, so the daemon can signal the whole job at once and the
/// job has no controlling terminal.
enum Session {
    /// Makes the jail a session leader. The daemon starts it as one already; a caller that made it a
    /// process-group leader instead (setsid() then fails) gets one more fork: the parent waits and ends
    /// like the jail, the child (tied to it by the parent-death signal) starts the session.
    static func enter() throws(JailFailure) {
        if getsid(0) == getpid() { return }
        if getpgrp() == getpid() {
            let child = fork()
            guard child >= 0 else { throw failure(.session, "fork") }
            if child > 0 {
                var status: Int32 = 0
                while waitpid(child, &status, 0) < 0 && errno == EINTR {}
                Relay.end(like: (status & 0x7F) == 0 ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F))
            }
            guard cjail_set_parent_death_signal(SIGKILL) == 0 else { throw failure(.session, "PR_SET_PDEATHSIG") }
        }
        guard setsid() != -1 else { throw failure(.session, "setsid") }
    }
}

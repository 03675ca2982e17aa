import CJailShims

/// Layer: a session and process group of its own, so the daemon can signal the whole job at once and the
/// job has no controlling terminal to inject keystrokes into.
enum Session {
    static func enter() throws(JailFailure) {
        // The daemon may already have made us a session leader (setsid() then fails with EPERM).
        if getsid(0) == getpid() { return }
        guard setsid() != -1 else {
            let detail = getpgrp() == getpid()
                ? "setsid: already a process-group leader; start the jail in a new session or as a child (the daemon does)"
                : "setsid"
            throw failure(.session, detail)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The daemon's side of one running job: records why it was stopped and kills its whole process group.
///
/// Shared by the watchdog, the two output readers and the supervisor; the first limit to trip wins the
/// race to kill, and all of them are recorded.
final class JobControl: Sendable {
    private struct State {
        var pid: pid_t?
        var finished = false
        var timedOut = false
        var outputLimit = false
        var killRequested = false
    }
    private let state = Mutex(State())

    /// The job's process (and group leader) is running as `pid`.
    func started(pid: pid_t) {
        let killNow = state.withLock { state in
            state.pid = pid
            return state.killRequested
        }
        if killNow { kill(group: pid) }
    }

    /// The process was reaped: from now on its pid may belong to someone else, so never signal it again.
    func finished() { state.withLock { $0.finished = true } }

    /// The wall-clock limit passed.
    func expire() { stop { $0.timedOut = true } }

    /// The job's task was cancelled (shutdown).
    func cancel() { stop { _ in } }

    /// An output stream went over its cap.
    func outputLimitReached() { stop { $0.outputLimit = true } }

    var timedOut: Bool { state.withLock { $0.timedOut } }
    /// The process, once started (and until reaped, when its pid may be another's).
    var pid: pid_t? { state.withLock { $0.finished ? nil : $0.pid } }
    var outputLimitHit: Bool { state.withLock { $0.outputLimit } }

    private func stop(_ reason: (inout State) -> Void) {
        let pid: pid_t? = state.withLock { state in
            guard !state.finished else { return nil }
            reason(&state)
            state.killRequested = true
            return state.pid
        }
        if let pid { kill(group: pid) }
    }

    /// SIGKILL to the process group the jail leads (the jail makes itself a session leader, so its pid
    /// is the group id), and to the process itself in case it has not reached setsid yet.
    private func kill(group pid: pid_t) {
        _ = Glibc.kill(-pid, SIGKILL)
        _ = Glibc.kill(pid, SIGKILL)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// The process's open-file limit, raised at start so that the connection limit, not the descriptor
/// table, is what refuses clients.
///
/// Every connection, job pipe, egress socket and database file takes a descriptor. With the common soft
/// limit of 1024, a thousand idle connections used to exhaust it: `accept` failed and `/healthz` went
/// unanswered. The daemon raises the soft limit to what it needs (up to the hard limit) and, if the hard
/// limit is too low, lowers its connection limit to fit rather than fail later.
public enum DescriptorLimit {
    /// Descriptors kept for everything but connections: the database, logs, the guest agent, and each
    /// worker's job (pipes, its egress proxy's connections).
    public static func reserve(workers: Int) -> Int { 512 + workers * 64 }

    /// Raises the soft `RLIMIT_NOFILE` to hold `connections` plus the reserve.
    /// - Returns: the connections that fit (`connections`, or fewer when the hard limit is lower).
    public static func raise(toHold connections: Int, workers: Int) -> (connections: Int, soft: UInt64) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (connections, 0) }
        let wanted = rlim_t(connections + reserve(workers: workers))
        let target = min(wanted, limit.rlim_max)  // RLIM_INFINITY is the largest value
        if target > limit.rlim_cur {
            var raised = limit
            raised.rlim_cur = target
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let fitting = Int(limit.rlim_cur) - reserve(workers: workers)
        return (max(16, min(connections, fitting)), UInt64(limit.rlim_cur))
    }
}

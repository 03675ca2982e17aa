/// Layer: rlimits for the program. NOFILE, FSIZE (SIGXFSZ past it), CORE (0: no dumps of a process that
/// held secrets), CPU (SIGXCPU: a backstop behind the wall-clock limit). Never RLIMIT_AS: V8 reserves
/// far more address space than it uses and aborts below about 64 GiB; memory is the cgroup's job.
enum ResourceLimits {
    static func apply(_ limits: [ResourceLimit]) throws(JailFailure) {
        for limit in limits {
            var value = rlimit(rlim_cur: rlim_t(limit.soft), rlim_max: rlim_t(limit.hard))
            guard setrlimit(__rlimit_resource_t(UInt32(limit.resource.number)), &value) == 0 else {
                throw failure(.resourceLimits, limit.resource.rawValue)
            }
        }
    }
}

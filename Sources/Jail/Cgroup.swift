/// Layer: the job's cgroup. The daemon creates it and sets its limits (memory with swap off, pids, cpu);
/// the jail joins it first, so every process the job ever has is inside, and the daemon can read its
/// counters and kill the whole group at the end.
enum Cgroup {
    static func join(_ directories: [String]) throws(JailFailure) {
        let pid = String(getpid()) + "\n"
        for directory in directories {
            let path = directory + "/cgroup.procs"
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw failure(.cgroup, path) }
            defer { close(fd) }
            let written = pid.withCString { write(fd, $0, strlen($0)) }
            guard written == pid.utf8.count else { throw failure(.cgroup, path) }
        }
    }
}

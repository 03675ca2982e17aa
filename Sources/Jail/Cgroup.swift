import CJailShims

/// Layer: the job's cgroup. The daemon creates it and sets its limits (memory with swap off, pids, cpu);
/// the jail puts the job inside before anything of it runs, so every process the job ever has is inside,
/// and the daemon can read its counters and kill the whole group at the end.
///
/// On cgroup v2 the namespaced child is cloned straight into the cgroup (`CLONE_INTO_CGROUP`). On v1 the
/// jail migrates itself into each hierarchy before cloning; a migration waits for an RCU grace period
/// (5–20 ms on the machines measured), which is why v2 avoids it.
enum Cgroup {
    /// How the child gets into the job's cgroup.
    enum Placement {
        /// Clone into this cgroup v2 directory (the descriptor stays open until the clone).
        case cloneInto(Int32)
        /// The jail already joined every directory; the child inherits them.
        case inherited
    }

    static func place(_ directories: [String]) throws(JailFailure) -> Placement {
        if directories.count == 1 {
            let fd = open(directories[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw failure(.cgroup, directories[0]) }
            if cjail_is_cgroup2(fd) == 1 { return .cloneInto(fd) }
            close(fd)
        }
        try join(directories)
        return .inherited
    }

    /// Moves the jail itself into each directory.
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

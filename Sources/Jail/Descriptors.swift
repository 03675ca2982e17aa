import CJailShims

/// Layer: no inherited descriptors. Everything above stderr is marked close-on-exec, so the program starts
/// with exactly stdin, stdout and stderr whatever the daemon had open (database, sockets, key files).
enum Descriptors {
    static func closeInherited() throws(JailFailure) {
        if cjail_cloexec_from(3) == 0 { return }
        guard errno == ENOSYS || errno == EINVAL else { throw failure(.descriptors, "close_range") }
        try markEachCloseOnExec()
    }

    /// Fallback for kernels before 5.11: walk /proc/self/fd.
    private static func markEachCloseOnExec() throws(JailFailure) {
        guard let directory = opendir("/proc/self/fd") else { throw failure(.descriptors, "opendir /proc/self/fd") }
        defer { closedir(directory) }
        let own = dirfd(directory)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let fd = Int32(name), fd > 2, fd != own else { continue }
            guard fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else { throw failure(.descriptors, "fcntl(\(fd))") }
        }
    }
}

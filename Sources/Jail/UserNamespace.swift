import CJailShims

/// Layer: the user namespace. Inside it the job's uid and gid map to the same unprivileged ids outside,
/// and nothing else is mapped: even a process that regained every capability inside would hold them only
/// over its own namespaces, never over the host.
enum UserNamespace {
    /// Parent side: writes the child's maps (one id each; `setgroups` denied so groups cannot be dropped to
    /// escape a group-based denial).
    static func writeMaps(for child: pid_t, uid: UInt32, gid: UInt32) throws(JailFailure) {
        try write("deny", to: "/proc/\(child)/setgroups")
        try write("\(uid) \(uid) 1\n", to: "/proc/\(child)/uid_map")
        try write("\(gid) \(gid) 1\n", to: "/proc/\(child)/gid_map")
    }

    /// Child side: becomes the job's user while keeping the namespace's capabilities for the mount setup
    /// (they are dropped for good later, by ``Capabilities``).
    static func becomeJobUser(uid: UInt32, gid: UInt32) throws(JailFailure) {
        guard cjail_set_keep_caps(1) == 0 else { throw failure(.userNamespace, "PR_SET_KEEPCAPS") }
        guard cjail_setresgid(gid) == 0 else { throw failure(.userNamespace, "setresgid(\(gid))") }
        guard cjail_setresuid(uid) == 0 else { throw failure(.userNamespace, "setresuid(\(uid))") }
        guard cjail_set_keep_caps(0) == 0, cjail_raise_effective_caps() == 0 else {
            throw failure(.userNamespace, "restoring capabilities for setup")
        }
    }

    private static func write(_ text: String, to path: String) throws(JailFailure) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(.userNamespace, path) }
        defer { close(fd) }
        guard text.withCString({ Glibc.write(fd, $0, strlen($0)) }) == text.utf8.count else {
            throw failure(.userNamespace, path)
        }
    }
}

import CJailShims

/// Layer: `no_new_privs`. After it, exec can never grant privileges (setuid bits and file capabilities are
/// ignored), and unprivileged seccomp filters become possible. Inherited by every descendant.
enum NoNewPrivileges {
    static func apply() throws(JailFailure) {
        guard cjail_set_no_new_privs() == 0 else { throw failure(.noNewPrivileges, "prctl(PR_SET_NO_NEW_PRIVS)") }
        guard cjail_get_no_new_privs() == 1 else { throw JailFailure(.noNewPrivileges, "flag did not stick") }
    }
}

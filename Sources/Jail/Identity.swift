import CJailShims

/// Layer: an unprivileged identity. Supplementary groups cleared, then the job's gid and uid (real,
/// effective and saved), so nothing can switch back.
enum Identity {
    /// Drops the supplementary groups the jail inherited (before any user namespace, which would forbid it).
    static func clearSupplementaryGroups() throws(JailFailure) {
        guard setgroups(0, nil) == 0 else { throw failure(.groups, "setgroups([])") }
    }

    /// Becomes `uid`/`gid` (a no-op when the user namespace setup already did) and checks it stuck.
    ///
    /// Changing the effective ids clears the parent-death signal (prctl(2)), here and in the user
    /// namespace's setup before, so it is set again after the last change: init must die with the jail,
    /// or a daemon killed mid-job would leave the job running. (The bridge and the program are forked
    /// after this and set their own.)
    static func become(uid: UInt32, gid: UInt32) throws(JailFailure) {
        guard cjail_setresgid(gid) == 0 else { throw failure(.identity, "setresgid(\(gid))") }
        guard cjail_setresuid(uid) == 0 else { throw failure(.identity, "setresuid(\(uid))") }
        guard cjail_ids_are(uid, gid) == 1 else { throw JailFailure(.identity, "ids did not change") }
        // Root can always regain privileges; refuse to run the job as uid 0 in any namespace.
        guard uid != 0, gid != 0 else { throw JailFailure(.identity, "refusing to run the job as uid or gid 0") }
        guard cjail_set_parent_death_signal(SIGKILL) == 0 else { throw failure(.identity, "PR_SET_PDEATHSIG after the identity change") }
    }
}

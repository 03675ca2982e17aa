// Thin wrappers for Linux calls that Swift cannot import directly (variadic prctl and syscall).
// Nothing here decides policy; the Swift layers in `Jail` do.
#ifndef CJAILSHIMS_H
#define CJAILSHIMS_H

/// prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0). Returns 0 or -1 with errno set.
int cjail_set_no_new_privs(void);
/// prctl(PR_GET_NO_NEW_PRIVS). Returns 1, 0, or -1 with errno set.
int cjail_get_no_new_privs(void);
/// prctl(PR_SET_PDEATHSIG, signal). Returns 0 or -1 with errno set.
int cjail_set_parent_death_signal(int signal);
/// prctl(PR_SET_DUMPABLE, 0): no core dumps, no ptrace attach by same-uid processes.
int cjail_set_not_dumpable(void);
/// close_range(first, ~0U, CLOSE_RANGE_CLOEXEC): every descriptor >= first closes at exec.
/// Returns 0, or -1 with errno set (ENOSYS before Linux 5.11).
int cjail_cloexec_from(unsigned int first);

#endif

// Thin wrappers for Linux calls that Swift cannot import directly (variadic prctl and syscall).
// Nothing here decides policy; the Swift layers in `Jail` do.
#ifndef CJAILSHIMS_H
#define CJAILSHIMS_H

/// prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0). Returns 0 or -1 with errno set.
int cjail_set_no_new_privs(void);
/// prctl(PR_GET_NO_NEW_PRIVS). Returns 1, 0, or -1 with errno set.
int cjail_get_no_new_privs(void);
/// prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {bytes / 8, program}): installs a classic BPF program (an array of
/// `struct sock_filter`, as libseccomp's seccomp_export_bpf writes it). Returns 0 or -1 with errno set.
int cjail_install_seccomp_filter(const void *program, unsigned long bytes);
/// prctl(PR_SET_PDEATHSIG, signal). Returns 0 or -1 with errno set.
int cjail_set_parent_death_signal(int signal);
/// prctl(PR_SET_DUMPABLE, 0): no core dumps, no ptrace attach by same-uid processes.
int cjail_set_not_dumpable(void);
/// close_range(first, ~0U, CLOSE_RANGE_CLOEXEC): every descriptor >= first closes at exec.
/// Returns 0, or -1 with errno set (ENOSYS before Linux 5.11).
int cjail_cloexec_from(unsigned int first);

/// clone(flags | SIGCHLD) with fork semantics: returns the child's pid in the parent, 0 in the child,
/// -1 with errno set. Only safe in a single-threaded process (the jail is one).
int cjail_clone(unsigned long flags);
/// clone3 with CLONE_INTO_CGROUP: like cjail_clone, but the child starts inside the cgroup v2 directory
/// `cgroup_fd`, so nothing has to migrate (a migration costs an RCU grace period, 5-20 ms).
/// Returns -1 with errno ENOSYS/E2BIG/EINVAL on kernels without it (before 5.7).
int cjail_clone_into_cgroup(unsigned long flags, int cgroup_fd);
/// 1 when `fd` is on a cgroup2 filesystem, 0 otherwise.
int cjail_is_cgroup2(int fd);
/// pivot_root(new_root, put_old). Returns 0 or -1 with errno set.
int cjail_pivot_root(const char *new_root, const char *put_old);
/// prctl(PR_SET_KEEPCAPS, on): keep permitted capabilities across a uid change (user-namespace setup).
int cjail_set_keep_caps(int on);
/// Makes every capability in the permitted set effective again (after a uid change with keepcaps).
int cjail_raise_effective_caps(void);

/// The _GNU_SOURCE calls glibc hides from Swift's Glibc module.
int cjail_setresuid(unsigned int uid);
int cjail_setresgid(unsigned int gid);
/// 1 when real, effective and saved uid and gid all equal `uid`/`gid`, else 0.
int cjail_ids_are(unsigned int uid, unsigned int gid);
int cjail_pipe_cloexec(int fds[2]);

/// Sets IFF_UP on the loopback interface of the calling process's network namespace (SIOCSIFFLAGS: the
/// `struct ifreq` union is C's to fill). Needs CAP_NET_ADMIN over that namespace. Returns 0 or -1 with errno.
int cjail_loopback_up(void);
/// close_range(first, last, 0): closes every descriptor in [first, last]. Returns 0 or -1 with errno.
int cjail_close_range(unsigned int first, unsigned int last);
/// pidfd_open(pid, 0): a descriptor that polls readable once `pid` has exited (Linux 5.3+). Returns the
/// descriptor (close-on-exec) or -1 with errno.
int cjail_pidfd_open(int pid);

#endif

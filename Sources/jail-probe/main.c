// jail-probe: tries one thing a contained program must not be able to do, and prints what happened.
// Run inside the jail by the escape tests (in place of Deno), so syscalls Deno cannot reach are tried too.
// Output: one line, "ok ..." when the call succeeded, "errno N NAME" when it failed. A call on the seccomp
// kill list never prints: the process dies with SIGSYS, which the tests expect.
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static int report(long result) {
    if (result < 0) {
        int saved = errno;
        printf("errno %d %s\n", saved, strerrorname_np(saved) ? strerrorname_np(saved) : "?");
        return 1;
    }
    printf("ok %ld\n", result);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: jail-probe TEST [ARG]\n"); return 2; }
    const char *test = argv[1];
    const char *arg = argc > 2 ? argv[2] : "";
    setvbuf(stdout, NULL, _IONBF, 0);

    if (!strcmp(test, "sleep")) { sleep((unsigned)atoi(arg)); printf("ok\n"); return 0; }
    if (!strcmp(test, "ids")) { printf("ok uid=%d euid=%d gid=%d egid=%d\n", getuid(), geteuid(), getgid(), getegid()); return 0; }
    if (!strcmp(test, "ptrace")) return report(ptrace(PTRACE_ATTACH, atoi(arg), 0, 0));
    if (!strcmp(test, "unshare")) return report(unshare(CLONE_NEWUSER | CLONE_NEWNS));
    if (!strcmp(test, "mount")) return report(mount("none", "/tmp", "tmpfs", 0, NULL));
    if (!strcmp(test, "chroot")) return report(chroot("/tmp"));
    if (!strcmp(test, "setuid")) return report(setuid(0));
    if (!strcmp(test, "keyctl")) return report(syscall(SYS_keyctl, 0, 0, 0, 0, 0));
    if (!strcmp(test, "bpf")) { union bpf_attr attr; memset(&attr, 0, sizeof attr); return report(syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr)); }
    if (!strcmp(test, "userfaultfd")) return report(syscall(SYS_userfaultfd, 0));
    if (!strcmp(test, "memfd")) return report(memfd_create("x", 0));
    if (!strcmp(test, "perf")) return report(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
    if (!strcmp(test, "io_uring")) return report(syscall(SYS_io_uring_setup, 1, NULL));
    if (!strcmp(test, "fork")) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid > 0) waitpid(pid, NULL, 0);
        return report(pid);
    }
    if (!strcmp(test, "socket-unix")) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0) return report(fd);
        struct sockaddr_un address = { .sun_family = AF_UNIX };
        strncpy(address.sun_path, arg, sizeof address.sun_path - 1);
        return report(connect(fd, (struct sockaddr *)&address, sizeof address));
    }
    if (!strcmp(test, "socket-vsock")) return report(socket(AF_VSOCK, SOCK_STREAM, 0));
    if (!strcmp(test, "socket-raw")) return report(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
    if (!strcmp(test, "socket-packet")) return report(socket(AF_PACKET, SOCK_RAW, 0));
    if (!strcmp(test, "socket-netlink")) return report(socket(AF_NETLINK, SOCK_RAW, 0));
    if (!strcmp(test, "socket-inet")) return report(socket(AF_INET, SOCK_STREAM, 0));
    // A server inside a job: the profile allows client sockets only, so listen and accept are refused.
    if (!strcmp(test, "listen") || !strcmp(test, "accept") || !strcmp(test, "accept4")) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) return report(fd);
        struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) return report(-1);
        if (!strcmp(test, "listen")) return report(listen(fd, 1));
        // Without a listen first, an allowed accept fails with EINVAL; the filter answers before that.
        if (!strcmp(test, "accept")) return report(syscall(SYS_accept, fd, NULL, NULL));
        return report(syscall(SYS_accept4, fd, NULL, NULL, 0));
    }
#if defined(__x86_64__)
    // Another ABI from the same process: i386's int 0x80 (getpid is 20 there) and x32's numbers, which
    // carry bit 30 (0x40000000). A filter written for x86_64 numbers must not be bypassed through them.
    if (!strcmp(test, "int80")) {
        long result;
        __asm__ volatile ("int $0x80" : "=a"(result) : "a"(20L) : "memory");
        if (result < 0 && result > -4096) { errno = (int)-result; return report(-1); }
        return report(result);
    }
    if (!strcmp(test, "x32")) return report(syscall(0x40000000L | SYS_getpid));
#endif
    if (!strcmp(test, "tiocsti")) { char c = 'x'; return report(ioctl(0, TIOCSTI, &c)); }
    if (!strcmp(test, "tiocsti-high")) { char c = 'x'; return report(syscall(SYS_ioctl, 0, 0x100000000UL | TIOCSTI, &c)); }
    if (!strcmp(test, "open")) return report(open(arg, O_RDONLY));
    if (!strcmp(test, "read")) {
        int fd = open(arg, O_RDONLY);
        if (fd < 0) return report(fd);
        char buffer[4096];
        ssize_t count = read(fd, buffer, sizeof buffer - 1);
        if (count < 0) return report(count);
        buffer[count] = 0;
        for (ssize_t i = 0; i < count; i++) if (buffer[i] == 0) buffer[i] = '\n';
        printf("ok %zd\n%s\n", count, buffer);
        return 0;
    }
    if (!strcmp(test, "write")) return report(open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0600));
    if (!strcmp(test, "connect-tcp")) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) return report(fd);
        struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argc > 3 ? argv[3] : "0")) };
        inet_pton(AF_INET, arg, &address.sin_addr);
        return report(connect(fd, (struct sockaddr *)&address, sizeof address));
    }
    if (!strcmp(test, "exec")) { char *args[] = { (char *)arg, "ids", NULL }; return report(execv(arg, args)); }
    if (!strcmp(test, "pids")) {
        DIR *proc = opendir("/proc");
        if (!proc) return report(-1);
        printf("ok");
        for (struct dirent *entry; (entry = readdir(proc));) if (entry->d_name[0] >= '1' && entry->d_name[0] <= '9') printf(" %s", entry->d_name);
        printf("\n");
        return 0;
    }
    if (!strcmp(test, "fds")) {
        int open_count = 0;
        for (int fd = 0; fd < 4096; fd++) if (fcntl(fd, F_GETFD) >= 0) open_count++;
        printf("ok %d\n", open_count);
        return 0;
    }
    fprintf(stderr, "jail-probe: unknown test %s\n", test);
    return 2;
}

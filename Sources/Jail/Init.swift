/// The child's last role: init of the job's pid namespace. It reaps every orphan, waits for the program,
/// reports how it ended, and exits, which makes the kernel kill whatever the job left running.
enum Init {
    static func reap(program: pid_t, channel: StatusChannel) -> Never {
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, 0)
            if pid == program { break }
            if pid < 0 && errno != EINTR { _exit(JailFailure.exitCode) }
        }
        // WIFEXITED / WTERMSIG, spelled out: Swift cannot import the macros.
        let signal = status & 0x7F
        channel.report(signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal))
        _exit(0)
    }
}

/// Reproduces the program's ending as the jail's own, so the daemon's `waitpid` sees what the program did.
enum Relay {
    static func end(like ending: StatusChannel.Ending) -> Never {
        switch ending {
        case .exited(let code):
            _exit(code)
        case .signaled(let signal):
            var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
            _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
            Glibc.signal(signal, SIG_DFL)
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, signal)
            sigprocmask(SIG_UNBLOCK, &set, nil)
            raise(signal)
            _exit(128 + signal)
        }
    }
}

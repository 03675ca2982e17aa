import CJailShims

/// The jail's whole job, in order. Like nsjail's `containProc`, each role is one short ordered function,
/// one isolation layer per call, each layer in its own file, each throwing a ``JailFailure`` naming itself.
///
/// Three processes: the jail (outside, in the daemon's namespaces, watching the daemon: ``DaemonWatch``)
/// clones a child into fresh namespaces;
/// the child builds the sandbox, forks the program, and stays as init of the pid namespace; the program
/// applies its per-process limits and seccomp and becomes Deno.
///
/// The program's environment comes first, from stdin (``Environment``), and goes down in one buffer to
/// `execve`; each process wipes its copy as soon as it has handed it on.
public enum Contain {
    /// Applies every layer of `configuration` and runs the program; never returns. Exits like the program
    /// did (same code, or the same signal), or with ``JailFailure/exitCode`` after writing the report.
    /// Stdin must start with the program's environment (``EnvironmentBlock``); the rest is the program's.
    /// A ``JailConfiguration/prepared`` jail reads nothing until it is ready, then a ``JobClaim`` first; a
    /// ``JailConfiguration/booted`` one reads its program's settings first, then waits for the claim (``Boot``).
    public static func enter(_ configuration: JailConfiguration) -> Never {
        let report = FailureReport(path: configuration.reportPath)
        do throws(JailFailure) {
            let daemon = try DaemonWatch(supervisor: configuration.supervisor)
            // A prepared jail reads the environment only once claimed, inside (``Claim``).
            let environment: Environment? = if configuration.prepared { nil } else { try Environment.read(from: 0) }
            try Session.enter()
            let placement = try Cgroup.place(configuration.cgroups)
            try Identity.clearSupplementaryGroups()
            var channel = try StatusChannel()
            let child = try Namespaces.clone(configuration, placement: placement)
            if child == 0 {
                channel.becomeInside()
                insideNamespaces(configuration, environment: environment, channel: channel, report: report)
            }
            environment?.wipe()  // init has its own copy now
            channel.becomeOutside()
            if !configuration.unsafeNoUserNamespace {
                try UserNamespace.writeMaps(for: child, uid: configuration.uid, gid: configuration.gid)
            }
            channel.release()
            guard case .ended(let ending) = channel.awaitEnding(watching: daemon) else {
                // Nobody supervises the job any more: killing init of its pid namespace ends all of it.
                kill(child, SIGKILL)
                var status: Int32 = 0
                while waitpid(child, &status, 0) < 0 && errno == EINTR {}
                _exit(JailFailure.exitCode)
            }
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0 && errno == EINTR {}
            // The child exits 0 after reporting; anything else is its own failure (already in the report).
            Relay.end(like: ending ?? ((status & 0x7F) == 0 ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)))
        } catch {
            report.fail(error)
        }
    }

    /// The child: init of the new namespaces. Builds the sandbox, then forks the program (and, for a job
    /// with hosts, the egress bridge) and reaps.
    /// A prepared jail waits, after `no_new_privs`, for its claim (``Claim/receive(into:watching:)``), which brings the
    /// job-dependent parts and the environment; everything before that is the same for every job. A booted
    /// one starts its program first (``Boot``).
    private static func insideNamespaces(
        _ configuration: JailConfiguration, environment: Environment?, channel: StatusChannel, report: FailureReport
    ) -> Never {
        var configuration = configuration
        do throws(JailFailure) {
            try Parent.dieWith(signal: SIGKILL)
            guard channel.awaitRelease() else { _exit(JailFailure.exitCode) }
            if !configuration.unsafeNoUserNamespace {
                try UserNamespace.becomeJobUser(uid: configuration.uid, gid: configuration.gid)
            }
            try MountNamespace.enter(configuration.filesystem, uid: configuration.uid, gid: configuration.gid)
            try Namespaces.setHostname(configuration.hostname)
            if !configuration.unsafeShareHostNetwork { try NetworkNamespace.bringUpLoopback() }
            try Capabilities.dropBoundingAndAmbient()
            try Identity.become(uid: configuration.uid, gid: configuration.gid)
            try Capabilities.clearAll()
            try NoNewPrivileges.apply()
            // The job's filter depends on the policy alone: compiled while the jail is prepared, installed last.
            let filter = configuration.unsafeNoSeccomp ? nil : try Seccomp.compile(configuration.seccomp)
            if let script = configuration.booted {
                let boot = try Boot.start(configuration, filter: filter, report: report)
                let environment = try Claim.receive(into: &configuration, watching: boot.program)
                try boot.handOver(environment, scriptPath: script, bridge: configuration.egressBridge)
                Init.reap(program: boot.program, channel: channel)
            }
            let environment = if let environment { environment } else { try Claim.receive(into: &configuration) }
            if let seed = configuration.seed { Seed.copy(seed) }
            // The bridge listens before the program runs (a connection waits in its backlog until it
            // accepts), and is forked, as unprivileged as the program, after the environment is wiped.
            var listener: Int32?
            if let bridge = configuration.egressBridge { listener = try bridge.listen() }
            let program = fork()
            guard program >= 0 else { throw failure(.fork, "fork") }
            if program == 0 { runProgram(configuration, environment: environment, filter: filter, report: report) }
            environment.wipe()  // the program has its own copy now
            if let bridge = configuration.egressBridge, let listener { try bridge.start(listening: listener) }
            Init.reap(program: program, channel: channel)
        } catch {
            report.fail(error)
        }
    }

    /// The program: per-process limits, then seccomp, then exec.
    static func runProgram(_ configuration: JailConfiguration, environment: Environment, filter: Seccomp.Compiled?, report: FailureReport) -> Never {
        do throws(JailFailure) {
            try Parent.dieWith(signal: SIGKILL)
            if let directory = configuration.workingDirectory, chdir(directory) != 0 {
                throw failure(.workingDirectory, directory)
            }
            try ResourceLimits.apply(configuration.resourceLimits)
            try Descriptors.closeInherited()
            // seccomp must be last: after it, every call is filtered, and only exec follows.
            if let filter { try Seccomp.install(filter) }
            throw Launcher.exec(configuration.program, arguments: configuration.arguments, environment: environment)
        } catch {
            report.fail(error)
        }
    }
}

/// Ties a process's life to its parent's: the parent-death signal, and no core dumps or ptrace by
/// same-uid processes (which also makes its `/proc/PID` files root-owned).
enum Parent {
    static func dieWith(signal: Int32) throws(JailFailure) {
        guard cjail_set_parent_death_signal(signal) == 0 else { throw failure(.session, "PR_SET_PDEATHSIG") }
        guard cjail_set_not_dumpable() == 0 else { throw failure(.session, "PR_SET_DUMPABLE") }
    }
}

/// Where the jail tells the daemon why it gave up. Opened first, close-on-exec, so it is gone once the
/// program runs.
struct FailureReport {
    private let fd: Int32

    init(path: String?) {
        fd = path.map { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600) } ?? -1
    }

    func fail(_ failure: JailFailure) -> Never {
        let line = failure.reportLine + "\n"
        if fd >= 0 { _ = line.withCString { write(fd, $0, strlen($0)) } }
        _ = ("oauth3-jail: \(failure)\n").withCString { write(2, $0, strlen($0)) }
        _exit(JailFailure.exitCode)
    }
}

extension Contain {
    /// Checks that this kernel lets the jail create its namespaces (`oauth3-jail --probe`): clones a
    /// child into all of them, which exits at once. The daemon runs it at start to decide, once and
    /// visibly, whether jobs get a user namespace.
    public static func probe(userNamespace: Bool) -> Never {
        var configuration = JailConfiguration(program: "/")
        configuration.unsafeNoUserNamespace = !userNamespace
        do throws(JailFailure) {
            let child = try Namespaces.clone(configuration)
            if child == 0 { _exit(0) }
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0 && errno == EINTR {}
            _exit(status == 0 ? 0 : 1)
        } catch {
            _ = "oauth3-jail: \(error)\n".withCString { write(2, $0, strlen($0)) }
            _exit(1)
        }
    }
}

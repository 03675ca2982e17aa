/// The jail's command line: the daemon encodes a ``JailConfiguration`` with ``encoded()`` and the jail
/// decodes it with ``init(arguments:)``. Both sides use this one file, so they cannot drift apart.
///
/// ```
/// oauth3-jail --root DIR [--bind-ro SRC DST]... [--tmpfs DST BYTES]... [--uid N] [--gid N]
///             [--cgroup DIR]... [--rlimit NAME SOFT HARD]... [--seccomp-default ACTION] [--seccomp RULE]...
///             [--hostname NAME] [--supervisor PID] [--chdir DIR] [--report FILE] [--egress-bridge PORT SOCKET]
///             [--bind-dir-ro SRC DST]... [--bind-dir-rw SRC DST]... [--seed SRC DST] [--prepared [--booted SCRIPT]] [--unsafe-share-host-network] [--unsafe-no-user-namespace] [--unsafe-no-seccomp]
///             -- PROGRAM [ARG]...    < ENVIRONMENT-BLOCK PROGRAM-STDIN
/// ```
/// Stdin starts with the program's environment (``EnvironmentBlock``), the only environment it gets; the
/// rest of stdin is the program's. Nothing on the command line is secret: any local user can read it.
/// With `--prepared`, stdin starts with a ``JobClaim`` instead, which brings the `--rlimit`,
/// `--egress-bridge` and program arguments, then the environment block, then the program's stdin.
/// With `--booted` as well, stdin starts with the program's settings (an environment block), and the claim
/// repeats the command line's arguments and limits, then brings the job's environment and the script.
extension JailConfiguration {
    /// Encodes this configuration as the jail's command-line arguments (without argv[0]).
    public func encoded() -> [String] {
        var out: [String] = []
        if let root = filesystem.stagingDirectory { out += ["--root", root] }
        for bind in filesystem.readOnlyFiles { out += ["--bind-ro", bind.source, bind.target] }
        for bind in filesystem.readOnlyDirectories { out += ["--bind-dir-ro", bind.source, bind.target] }
        for bind in filesystem.writableDirectories { out += ["--bind-dir-rw", bind.source, bind.target] }
        for mount in filesystem.tmpfs { out += ["--tmpfs", mount.target, String(mount.sizeBytes)] }
        out += ["--uid", String(uid), "--gid", String(gid)]
        for path in cgroups { out += ["--cgroup", path] }
        for limit in resourceLimits { out += ["--rlimit", limit.resource.rawValue, String(limit.soft), String(limit.hard)] }
        out += ["--seccomp-default", seccomp.defaultAction.encoded]
        for rule in seccomp.rules { out += ["--seccomp", rule.encoded] }
        out += ["--hostname", hostname]
        if let supervisor { out += ["--supervisor", String(supervisor)] }
        if let workingDirectory { out += ["--chdir", workingDirectory] }
        if let reportPath { out += ["--report", reportPath] }
        if let egressBridge { out += ["--egress-bridge", String(egressBridge.port), egressBridge.socketPath] }
        if let seed { out += ["--seed", seed.source, seed.target] }
        if prepared { out.append("--prepared") }
        if let booted { out += ["--booted", booted] }
        if unsafeShareHostNetwork { out.append("--unsafe-share-host-network") }
        if unsafeNoUserNamespace { out.append("--unsafe-no-user-namespace") }
        if unsafeNoSeccomp { out.append("--unsafe-no-seccomp") }
        out.append("--")
        out.append(program)
        out += arguments
        return out
    }

    /// Decodes the jail's command-line arguments (without argv[0]).
    /// - Throws: ``JailUsageError`` naming the offending argument.
    public init(arguments: [String]) throws(JailUsageError) {
        var configuration = JailConfiguration(program: "")
        var seccompRules: [SeccompPolicy.Rule] = []
        var index = 0
        func value(for flag: String) throws(JailUsageError) -> String {
            index += 1
            guard index < arguments.count else { throw JailUsageError("\(flag) needs a value") }
            return arguments[index]
        }
        func number<T: FixedWidthInteger>(for flag: String, _: T.Type = T.self) throws(JailUsageError) -> T {
            let text = try value(for: flag)
            guard let parsed = T(text) else { throw JailUsageError("\(flag) takes a number, got '\(text)'") }
            return parsed
        }
        func absolute(for flag: String) throws(JailUsageError) -> String {
            let path = try value(for: flag)
            guard path.hasPrefix("/") else { throw JailUsageError("\(flag) takes an absolute path, got '\(path)'") }
            return path
        }
        while index < arguments.count {
            let flag = arguments[index]
            switch flag {
            case "--root": configuration.filesystem.stagingDirectory = try absolute(for: flag)
            case "--bind-ro":
                let source = try absolute(for: flag)
                configuration.filesystem.readOnlyFiles.append(.init(source: source, target: try absolute(for: flag)))
            case "--bind-dir-ro":
                let source = try absolute(for: flag)
                configuration.filesystem.readOnlyDirectories.append(.init(source: source, target: try absolute(for: flag)))
            case "--bind-dir-rw":
                let source = try absolute(for: flag)
                configuration.filesystem.writableDirectories.append(.init(source: source, target: try absolute(for: flag)))
            case "--seed":
                let source = try absolute(for: flag)
                configuration.seed = DirectorySeed(source: source, target: try absolute(for: flag))
            case "--tmpfs":
                let target = try absolute(for: flag)
                configuration.filesystem.tmpfs.append(.init(target: target, sizeBytes: try number(for: flag)))
            case "--uid": configuration.uid = try number(for: flag)
            case "--gid": configuration.gid = try number(for: flag)
            case "--cgroup": configuration.cgroups.append(try absolute(for: flag))
            case "--rlimit":
                let name = try value(for: flag)
                guard let resource = ResourceLimit.Resource(rawValue: name) else {
                    throw JailUsageError("--rlimit: unknown resource '\(name)' (known: \(ResourceLimit.Resource.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                let soft: UInt64 = try number(for: flag)
                configuration.resourceLimits.append(.init(resource, soft: soft, hard: try number(for: flag)))
            case "--seccomp-default":
                let text = try value(for: flag)
                guard let action = SeccompPolicy.Action(encoded: Substring(text)) else {
                    throw JailUsageError("--seccomp-default: '\(text)' is not allow, kill, log or errno=N")
                }
                configuration.seccomp.defaultAction = action
            case "--seccomp":
                let text = try value(for: flag)
                guard let rule = SeccompPolicy.Rule(encoded: text) else {
                    throw JailUsageError("--seccomp: '\(text)' is not ACTION/SYSCALL[/INDEX:OP:VALUE[:MASK]]...")
                }
                seccompRules.append(rule)
            case "--hostname": configuration.hostname = try value(for: flag)
            case "--supervisor": configuration.supervisor = try number(for: flag)
            case "--chdir": configuration.workingDirectory = try absolute(for: flag)
            case "--report": configuration.reportPath = try absolute(for: flag)
            case "--egress-bridge":
                let port: UInt16 = try number(for: flag)
                guard port > 0 else { throw JailUsageError("--egress-bridge: port 0") }
                configuration.egressBridge = EgressBridge(port: port, socketPath: try absolute(for: flag))
            case "--prepared": configuration.prepared = true
            case "--booted": configuration.booted = try absolute(for: flag)
            case "--unsafe-share-host-network": configuration.unsafeShareHostNetwork = true
            case "--unsafe-no-user-namespace": configuration.unsafeNoUserNamespace = true
            case "--unsafe-no-seccomp": configuration.unsafeNoSeccomp = true
            case "--":
                let rest = arguments[(index + 1)...]
                guard let program = rest.first, program.hasPrefix("/") else {
                    throw JailUsageError("'--' must be followed by the program's absolute path")
                }
                guard configuration.filesystem.stagingDirectory != nil else {
                    throw JailUsageError("missing --root: every job gets a new root")
                }
                guard configuration.booted == nil || configuration.prepared else {
                    throw JailUsageError("--booted needs --prepared: only a prepared jail waits for a claim")
                }
                configuration.program = program
                configuration.arguments = Array(rest.dropFirst())
                configuration.seccomp.rules = seccompRules
                self = configuration
                return
            default:
                throw JailUsageError("unknown argument '\(flag)'")
            }
            index += 1
        }
        throw JailUsageError("missing '-- PROGRAM [ARG]...'")
    }
}

/// A command line the jail cannot decode.
public struct JailUsageError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "oauth3-jail: usage: \(message)" }
}

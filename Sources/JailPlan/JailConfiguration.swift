/// Everything `oauth3-jail` needs to contain one program, built by the daemon and passed on its command line.
///
/// It carries no secrets, and no environment: the program's environment (secrets included) travels on
/// the jail's stdin ahead of the script (``EnvironmentBlock``), and the jail's own environment, empty when
/// the daemon starts it, never reaches the program. The daemon builds one value per job; the jail decodes
/// it (``init(arguments:)``) and applies it (``Contain/enter(_:)``), minijail-style: configure, then enter.
///
/// Every layer is on unless a property whose name starts with `unsafe` turns it off; the daemon never
/// sets those, the layer tests do (to prove each layer on its own).
public struct JailConfiguration: Sendable, Hashable {
    /// Absolute path of the program to execute, as seen inside the new root (Deno).
    public var program: String
    /// The program's arguments, without argv[0].
    public var arguments: [String]
    /// Directory to change into before exec, inside the new root.
    public var workingDirectory: String?
    /// File the jail writes a one-line ``JailFailure`` to when it cannot set up the sandbox. Opened
    /// close-on-exec, so the contained program never holds it.
    public var reportPath: String?

    /// The unprivileged user and group the program runs as.
    public var uid: UInt32 = 65534
    public var gid: UInt32 = 65534
    /// The new root's layout: the files bound into it and its in-memory filesystems.
    public var filesystem = FilesystemPlan()
    /// cgroup directories (one per v1 controller, or one v2 directory) the jail joins before anything else.
    public var cgroups: [String] = []
    /// Resource limits applied to the program.
    public var resourceLimits: [ResourceLimit] = []
    /// The seccomp filter, installed last.
    public var seccomp = SeccompPolicy()
    /// The pid of the process that supervises the job (the daemon), which must be the jail's parent when
    /// it starts. `nil`: whatever parent the jail has, unless that is pid 1, which is taken to mean the
    /// parent already died. The daemon always names itself, because in a container it may be pid 1.
    public var supervisor: Int32?
    /// Host name inside the UTS namespace.
    public var hostname = "oauth3-job"

    /// The bridge to the daemon's egress proxy, for a job that declared hosts; `nil` leaves the job's
    /// network namespace with loopback alone.
    public var egressBridge: EgressBridge?

    /// A directory whose files init copies into another (the job's own tmpfs) once the claim has arrived and
    /// before the program starts, as the job's user: how a job gets its copy of a Deno cache the daemon wrote,
    /// which it can then change without touching the original. A missing source copies nothing.
    public var seed: DirectorySeed?

    /// Starts the jail ahead of its job: everything above is applied (namespaces, root, cgroup, loopback,
    /// identity, capabilities, `no_new_privs`), then init waits for a ``JobClaim`` on stdin, which brings
    /// the job-dependent ``arguments``, ``resourceLimits`` and ``egressBridge`` (any given on the command
    /// line are replaced; in a ``booted`` jail they must be repeated instead). Init writes one byte, ``preparedSignal``, to stdout when it starts waiting; the
    /// program's own output follows only after the claim.
    public var prepared = false
    /// The byte a prepared jail writes to stdout once it waits for its claim.
    public static let preparedSignal = UInt8(ascii: "R")
    /// A prepared jail that also starts its program before the claim (Deno's own start is most of a small
    /// job's time): the path, inside the jail, where init writes the script the claim brings, which the
    /// program's arguments name as its main module. The program starts with the command line's
    /// ``arguments`` and ``resourceLimits`` and an environment of settings only, read from stdin first (an
    /// ``EnvironmentBlock`` holding nothing of a job); its stdin is a pipe from init. The claim must repeat
    /// those arguments and limits exactly; init then writes the script, sends the variables the job's
    /// environment adds to the settings down the pipe as `NAME=value\0` entries, and closes it. `nil`: the
    /// program starts only after the claim. Requires ``prepared``.
    public var booted: String?

    /// Shares the host's network namespace instead of a fresh one. The daemon never does; the jail's own
    /// layer tests do, to check the other layers with a network present.
    public var unsafeShareHostNetwork = false
    /// Runs without a user namespace, for kernels or containers that refuse one. The jail then needs real
    /// root for its setup and drops to ``uid``/``gid`` before exec.
    public var unsafeNoUserNamespace = false
    /// Skips the seccomp filter (layer tests only).
    public var unsafeNoSeccomp = false

    public init(
        program: String, arguments: [String] = [], workingDirectory: String? = nil, reportPath: String? = nil
    ) {
        self.program = program
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.reportPath = reportPath
    }
}

/// One `setrlimit` the jail applies to the program.
public struct ResourceLimit: Sendable, Hashable {
    /// The limits the jail knows by name.
    public enum Resource: String, Sendable, CaseIterable {
        case nofile, fsize, core, cpu, nproc, stack

        /// The resource's number for `setrlimit`.
        public var number: Int32 {
            switch self {
            case .nofile: 7
            case .fsize: 1
            case .core: 4
            case .cpu: 0
            case .nproc: 6
            case .stack: 3
            }
        }
    }
    public var resource: Resource
    public var soft: UInt64
    public var hard: UInt64

    public init(_ resource: Resource, soft: UInt64, hard: UInt64) {
        self.resource = resource
        self.soft = soft
        self.hard = hard
    }
}

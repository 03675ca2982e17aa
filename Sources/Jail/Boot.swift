import CJailShims

/// Stage: a booted jail (``JailConfiguration/booted``), whose program starts before its job.
///
/// Deno's own start is most of a small job's time (hello: about 15 of 20 ms) and, once the command line is
/// fixed, nothing of it depends on the job. So a booted jail execs Deno while it is prepared: with the
/// command line's arguments and limits, an environment of settings only (read from stdin first, holding no
/// secret and no argument: no job exists yet), and a pipe from init as its stdin. Deno runs the daemon's
/// preload module, which blocks reading that pipe. The claim brings the job's environment and script; init
/// writes the script to the path Deno's main module names, sends the variables the job adds to the settings
/// down the pipe, and closes it; the preload sets them and returns, and Deno loads the job's module as its
/// main module, exactly as a program started after the claim would have read it from stdin.
struct Boot {
    let program: pid_t
    /// The settings the program started with: the job's environment must begin with exactly these.
    private let settings: Environment
    /// Init's end of the program's stdin.
    private let variables: Int32

    /// Reads the settings from stdin, copies the seed, and forks the program, which applies its limits and
    /// seccomp and execs with them. Returns in init.
    static func start(
        _ configuration: JailConfiguration, filter: Seccomp.Compiled?, report: FailureReport
    ) throws(JailFailure) -> Boot {
        let settings = try Environment.read(from: 0)
        // The cache must be in place before Deno starts: it opens its databases at start.
        if let seed = configuration.seed { Seed.copy(seed) }
        var pipe: [Int32] = [-1, -1]
        guard cjail_pipe_cloexec(&pipe) == 0 else { throw failure(.boot, "pipe2") }
        let program = fork()
        guard program >= 0 else { throw failure(.fork, "fork") }
        if program == 0 {
            // dup2 leaves the new descriptor open across exec; both pipe ends are close-on-exec.
            guard dup2(pipe[0], 0) == 0 else { report.fail(failure(.boot, "dup2 of the program's stdin")) }
            Contain.runProgram(configuration, environment: settings, filter: filter, report: report)
        }
        close(pipe[0])
        return Boot(program: program, settings: settings, variables: pipe[1])
    }

    /// Hands the claimed job to the program: the script to `path`, then the job's variables down the pipe.
    /// The bridge (a job with hosts) listens before the program can run the job, and is forked after the
    /// environment is wiped, as in a jail whose program starts after the claim.
    func handOver(_ environment: Environment, scriptPath path: String, bridge: EgressBridge?) throws(JailFailure) {
        defer { environment.wipe() }
        guard settings.isPrefix(of: environment) else {
            throw JailFailure(.claim, "the job's environment does not begin with the settings the booted program started with")
        }
        try Self.writeScript(from: 0, to: path)
        let listener = try bridge?.listen()
        // A program that died meanwhile makes this fail (EPIPE: init of a pid namespace ignores SIGPIPE);
        // its ending is then the job's, reported as any other.
        _ = environment.write(entriesAfter: settings.count, to: variables)
        close(variables)
        environment.wipe()
        if let bridge, let listener { try bridge.start(listening: listener) }
    }

    /// Copies the rest of stdin (the script) into a new file only the job's user can read.
    private static func writeScript(from input: Int32, to path: String) throws(JailFailure) {
        let output = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o400)
        guard output >= 0 else { throw failure(.claim, "creating the script at \(path)") }
        defer { close(output) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let count = read(input, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw failure(.claim, "reading the script from stdin") }
            if count == 0 { return }
            var done = 0
            while done < count {
                let written = write(output, buffer.baseAddress! + done, count - done)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { throw failure(.claim, "writing the script to \(path)") }
                done += written
            }
        }
    }
}

/// The jail's whole job, in order: contain this process, then become the program.
///
/// Like nsjail's `containProc`, the sequence is one short ordered function, one isolation layer per call.
/// Each layer lives in its own file and throws a ``JailFailure`` naming itself.
public enum Contain {
    /// Applies every layer of `configuration` to the current process and executes the program.
    /// Never returns: on failure it writes the report and exits with ``JailFailure/exitCode``.
    public static func enter(_ configuration: JailConfiguration) -> Never {
        let report = FailureReport(path: configuration.reportPath)
        do throws(JailFailure) {
            try Session.enter()
            if let directory = configuration.workingDirectory, chdir(directory) != 0 {
                throw failure(.workingDirectory, directory)
            }
            try NoNewPrivileges.apply()
            try Descriptors.closeInherited()
            let environment = Environment.clean(keeping: configuration.keepEnvironment)
            throw Launcher.exec(configuration.program, arguments: configuration.arguments, environment: environment)
        } catch {
            report.fail(error)
        }
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

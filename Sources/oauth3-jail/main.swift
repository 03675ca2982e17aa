import Jail

// oauth3-jail: contains one program (Deno) and executes it. Started by the daemon, one per job;
// see `JailConfiguration+Arguments.swift` for the command line and `Contain.swift` for the sequence.
// Stays single-threaded: nothing here may start a thread before exec.
do {
    let configuration = try JailConfiguration(arguments: Array(CommandLine.arguments.dropFirst()))
    Contain.enter(configuration)
} catch {
    _ = "\(error)\n".withCString { write(2, $0, strlen($0)) }
    _exit(JailFailure.exitCode)
}

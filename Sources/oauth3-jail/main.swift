import Jail

// oauth3-jail: contains one program (Deno) and executes it. Started by the daemon, one per job, with an
// empty environment; see `JailPlan/JailConfiguration+Arguments.swift` for the command line, `JailPlan/EnvironmentBlock.swift`
// for the program's environment at the start of stdin, and `Contain.swift` for the sequence.
// `oauth3-jail --probe [--unsafe-no-user-namespace]` only checks that the namespaces can be created.
// Stays single-threaded: nothing here may start a thread, because the jail forks.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--probe" {
    Contain.probe(userNamespace: !arguments.contains("--unsafe-no-user-namespace"))
}
do {
    Contain.enter(try JailConfiguration(arguments: arguments))
} catch {
    _ = "\(error)\n".withCString { write(2, $0, strlen($0)) }
    _exit(JailFailure.exitCode)
}

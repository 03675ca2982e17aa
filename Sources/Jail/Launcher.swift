/// The last step: replace the jail with the contained program. Returns only on failure.
enum Launcher {
    static func exec(_ program: String, arguments: [String], environment: [String]) -> JailFailure {
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        execve(program, argv, envp)
        return failure(.exec, program)
    }
}

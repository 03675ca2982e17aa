/// The last step: replace the jail with the contained program. Returns only on failure.
enum Launcher {
    /// `execve` with the program's own environment (``Environment``): the only place it leaves the jail.
    static func exec(_ program: String, arguments: [String], environment: Environment) -> JailFailure {
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        execve(program, argv, environment.pointers())
        return failure(.exec, program)
    }
}

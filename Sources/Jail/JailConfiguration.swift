/// Everything `oauth3-jail` needs to contain one program, built by the daemon and passed on its command line.
///
/// It carries no secrets: those travel only in the jail's environment, and only the names listed in
/// ``keepEnvironment`` reach the program. The daemon builds one value per job; the jail decodes it
/// (``init(arguments:)``) and applies it (``Contain/enter(_:)``), minijail-style: configure, then enter.
public struct JailConfiguration: Sendable, Hashable {
    /// Absolute path of the program to execute (Deno).
    public var program: String
    /// The program's arguments, without argv[0].
    public var arguments: [String]
    /// Names of the variables passed from the jail's environment to the program; all others are dropped.
    public var keepEnvironment: [String]
    /// Directory to change into before exec.
    public var workingDirectory: String?
    /// File the jail writes a one-line ``JailFailure`` to when it cannot set up the sandbox. Opened
    /// close-on-exec, so the contained program never holds it.
    public var reportPath: String?

    public init(
        program: String, arguments: [String] = [], keepEnvironment: [String] = [],
        workingDirectory: String? = nil, reportPath: String? = nil
    ) {
        self.program = program
        self.arguments = arguments
        self.keepEnvironment = keepEnvironment
        self.workingDirectory = workingDirectory
        self.reportPath = reportPath
    }
}

/// The jail's command line: the daemon encodes a ``JailConfiguration`` with ``arguments`` and the jail
/// decodes it with ``init(arguments:)``. Both sides use this one file, so they cannot drift apart.
///
/// Form: `oauth3-jail [--keep-env NAME]... [--chdir DIR] [--report FILE] -- PROGRAM [ARG]...`
extension JailConfiguration {
    /// The encoded command line, without argv[0].
    /// Encodes this configuration as the jail's command-line arguments (without argv[0]).
    public func encoded() -> [String] {
        var out: [String] = []
        for name in keepEnvironment { out += ["--keep-env", name] }
        if let workingDirectory { out += ["--chdir", workingDirectory] }
        if let reportPath { out += ["--report", reportPath] }
        out.append("--")
        out.append(program)
        out += arguments
        return out
    }

    /// Decodes the jail's command-line arguments (without argv[0]).
    /// - Throws: ``JailUsageError`` naming the offending argument.
    public init(arguments: [String]) throws(JailUsageError) {
        var keep: [String] = []
        var chdir: String?
        var report: String?
        var index = 0
        func value(for flag: String) throws(JailUsageError) -> String {
            index += 1
            guard index < arguments.count else { throw JailUsageError("\(flag) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--keep-env":
                let name = try value(for: argument)
                guard !name.isEmpty, !name.contains("=") else { throw JailUsageError("--keep-env takes a variable name, got '\(name)'") }
                keep.append(name)
            case "--chdir": chdir = try value(for: argument)
            case "--report": report = try value(for: argument)
            case "--":
                let rest = arguments[(index + 1)...]
                guard let program = rest.first, program.hasPrefix("/") else {
                    throw JailUsageError("'--' must be followed by the program's absolute path")
                }
                self.init(
                    program: program, arguments: Array(rest.dropFirst()), keepEnvironment: keep,
                    workingDirectory: chdir, reportPath: report)
                return
            default:
                throw JailUsageError("unknown argument '\(argument)'")
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

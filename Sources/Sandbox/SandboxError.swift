/// Why the sandbox could not run a job at all (as opposed to a job that ran and failed, which is a
/// ``RunResult`` with an ``Outcome``).
public struct SandboxError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case policy, workDirectory, spawn, denoVersion, missingSecret, cgroup, isolation, egress
    }

    private let code: Code
    /// What went wrong, naming the file, path or value concerned.
    public let message: String
    /// Where in our sources the error was raised.
    public let location: String

    private init(_ code: Code, _ message: String, file: String, line: Int) {
        self.code = code
        self.message = message
        self.location = "\(file):\(line)"
    }

    /// A policy file is missing or malformed.
    public static func policy(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        .init(.policy, message, file: file, line: line)
    }
    /// The per-job directory could not be created.
    public static func workDirectory(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        .init(.workDirectory, message, file: file, line: line)
    }
    /// The job's egress proxy could not be started.
    public static func egress(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        .init(.egress, message, file: file, line: line)
    }
    /// The jail could not be started.
    public static func spawn(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        .init(.spawn, message, file: file, line: line)
    }
    /// Deno's version could not be read.
    public static func denoVersion(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        .init(.denoVersion, message, file: file, line: line)
    }
    /// A cgroup could not be created, configured or delegated.
    public static func cgroup(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        .init(.cgroup, message, file: file, line: line)
    }
    /// An isolation layer the configuration requires is not available on this machine.
    public static func isolation(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        .init(.isolation, message, file: file, line: line)
    }
    /// A secret the skill declares has no value.
    public static func missingSecret(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        .init(.missingSecret, message, file: file, line: line)
    }

    public var description: String { message }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

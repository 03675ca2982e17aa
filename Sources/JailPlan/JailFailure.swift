#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why the jail could not start the program: the isolation step that failed and its errno.
///
/// The jail writes it, as one line, to the report file it was given, and exits with ``exitCode``. The
/// daemon trusts the report file, not the exit code: the contained program can exit with any code, but it
/// never holds the report file (it is opened close-on-exec).
public struct JailFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The isolation steps, in the order ``Contain/enter(_:)`` applies them.
    public enum Stage: String, Sendable, CaseIterable {
        case usage, report, environment, session, cgroup, groups, clone, userNamespace = "user_namespace", mount, hostname
        case network, capabilities, identity, noNewPrivileges = "no_new_privs", boot, claim, fork, resourceLimits = "rlimits"
        case workingDirectory = "chdir", descriptors, seccomp, exec
    }

    /// The step that failed.
    public let stage: Stage
    /// The errno it failed with (0 when no system call failed).
    public let errno: Int32
    /// A short explanation.
    public let detail: String

    public init(_ stage: Stage, errno: Int32 = 0, _ detail: String = "") {
        self.stage = stage
        self.errno = errno
        self.detail = detail
    }

    /// The jail's exit status when setup fails (minijail reserves a few codes the same way).
    public static let exitCode: Int32 = 253

    /// The report line: `stage errno detail`.
    public var reportLine: String { "\(stage.rawValue) \(errno) \(detail)" }

    /// Decodes a report line written by the jail; `nil` for anything else.
    public init?(reportLine: String) {
        let parts = reportLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let stage = Stage(rawValue: String(parts[0])), let code = Int32(parts[1]) else { return nil }
        self.init(stage, errno: code, parts.count == 3 ? String(parts[2]) : "")
    }

    public var description: String {
        let reason = errno != 0 ? String(cString: strerror(errno)) : ""
        return "jail setup failed at \(stage.rawValue)" + (detail.isEmpty ? "" : ": \(detail)") + (reason.isEmpty ? "" : " (\(reason))")
    }
}

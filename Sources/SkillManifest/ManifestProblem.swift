/// One thing wrong with a skill header: where it is and what is wrong.
public struct ManifestProblem: Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number in the source; 0 when the problem concerns the whole source.
    public let line: Int
    /// The tag the problem concerns (`"skill"`, `"network"`, …), or `nil` for the source as a whole.
    public let tag: String?
    /// A sentence naming what is wrong and, where possible, how to fix it.
    public let message: String

    public init(line: Int, tag: String?, message: String) {
        self.line = line
        self.tag = tag
        self.message = message
    }

    public var description: String {
        let place = line > 0 ? "line \(line)" : "source"
        return tag.map { "\(place) @\($0): \(message)" } ?? "\(place): \(message)"
    }
}

/// A header that failed validation. Carries every problem found, not just the first.
public struct ManifestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// All problems, in source order.
    public let problems: [ManifestProblem]

    public init(problems: [ManifestProblem]) {
        self.problems = problems
    }

    public var description: String {
        "invalid skill header:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

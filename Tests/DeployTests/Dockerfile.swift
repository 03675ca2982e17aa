/// A Dockerfile read the way BuildKit reads it: comment lines and blank lines skipped (also inside a
/// continued instruction), `\` at the end of a line continues it, and each instruction starts with a
/// keyword BuildKit knows. Strict on purpose: a line it cannot classify is an error, not a guess.
struct Dockerfile {
    struct Instruction {
        let keyword: String
        let arguments: String
        let line: Int
    }

    struct ParseError: Error, CustomStringConvertible {
        let line: Int
        let message: String
        var description: String { "Dockerfile line \(line): \(message)" }
    }

    static let keywords: Set<String> = [
        "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG",
        "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
    ]

    let instructions: [Instruction]

    init(parsing text: String) throws {
        var instructions: [Instruction] = []
        var pending: (start: Int, text: String)?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let continues = line.hasSuffix("\\")
            let body = continues ? String(line.dropLast()) : line
            if var current = pending {
                current.text += " " + body
                pending = current
            } else {
                pending = (index + 1, body)
            }
            if continues { continue }
            guard let (start, joined) = pending else { continue }
            pending = nil
            let keyword = String(joined.prefix { !$0.isWhitespace })
            guard Self.keywords.contains(keyword) else {
                throw ParseError(line: start, message: "'\(keyword)' is not an instruction (keywords are upper case here)")
            }
            instructions.append(Instruction(keyword: keyword, arguments: String(joined.dropFirst(keyword.count)).trimmingWhitespace(), line: start))
        }
        if let pending { throw ParseError(line: pending.start, message: "the file ends inside a continued instruction") }
        guard instructions.first?.keyword == "FROM" else { throw ParseError(line: instructions.first?.line ?? 1, message: "the first instruction must be FROM") }
        self.instructions = instructions
    }

    /// The stages, each from its FROM to the next.
    var stages: [[Instruction]] {
        var stages: [[Instruction]] = []
        for instruction in instructions {
            if instruction.keyword == "FROM" { stages.append([]) }
            stages[stages.count - 1].append(instruction)
        }
        return stages
    }

    /// The instructions of the stage that becomes the image.
    var finalStage: [Instruction] { stages.last ?? [] }

    /// `KEY=VALUE` pairs of the final stage's ENV instructions (the only form this Dockerfile uses).
    var environment: [String: String] {
        var values: [String: String] = [:]
        for instruction in finalStage where instruction.keyword == "ENV" {
            for pair in instruction.arguments.split(whereSeparator: \.isWhitespace) {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
            }
        }
        return values
    }

    /// Paths the final stage's COPY instructions create: each source, or its file name under a `/` destination.
    var copiedPaths: [(source: String, destination: String, fromStage: Bool)] {
        finalStage.filter { $0.keyword == "COPY" }.flatMap { instruction in
            let words = instruction.arguments.split(whereSeparator: \.isWhitespace).map(String.init)
            let fromStage = words.contains { $0.hasPrefix("--from=") }
            let paths = words.filter { !$0.hasPrefix("--") }
            guard let destination = paths.last else { return [(source: String, destination: String, fromStage: Bool)]() }
            return paths.dropLast().map { source in
                let name = source.split(separator: "/").last.map(String.init) ?? source
                return (source, destination.hasSuffix("/") ? destination + name : destination, fromStage)
            }
        }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

extension SkillManifest {
    /// Parses and validates the header of a skill.
    ///
    /// The header is the leading block of `//` comment lines (blank lines and a `#!` line may precede it).
    /// Lines are split the way JavaScript splits them (`\n`, `\r\n`, `\r`, U+2028, U+2029), so the header we
    /// read is exactly the comment block Deno sees: a value cannot smuggle code past us on a "line" that
    /// JavaScript would end early. U+2028, U+2029, bidirectional controls and invisible characters are
    /// refused anywhere in the source (``DeceptiveCharacters``), so the approval page shows what Deno runs.
    ///
    /// - Parameters:
    ///   - source: the skill's source bytes.
    ///   - configuration: the operator's bounds.
    /// - Returns: the validated manifest.
    /// - Throws: ``ManifestError`` listing every problem found.
    public static func parse(
        _ source: some Collection<UInt8>, configuration: ManifestConfiguration = .init()
    ) throws(ManifestError) -> SkillManifest {
        if source.count > configuration.maxSourceBytes {
            throw ManifestError(problems: [
                .init(line: 0, tag: nil, message: "source is \(source.count) bytes, more than the limit of \(configuration.maxSourceBytes)")
            ])
        }
        if let nul = source.firstIndex(of: 0) {
            let offset = source.distance(from: source.startIndex, to: nul)
            throw ManifestError(problems: [.init(line: 0, tag: nil, message: "source contains a NUL byte at offset \(offset)")])
        }
        guard let text = String(validating: source, as: UTF8.self) else {
            throw ManifestError(problems: [.init(line: 0, tag: nil, message: "source is not valid UTF-8")])
        }
        let deceptive = DeceptiveCharacters.problems(in: text)
        if !deceptive.isEmpty { throw ManifestError(problems: deceptive) }
        var parser = HeaderParser(configuration: configuration)
        return try parser.parse(text)
    }

    /// Parses and validates the header of a skill given as a string. See ``parse(_:configuration:)-(Collection<UInt8>,_)``.
    public static func parse(
        _ source: String, configuration: ManifestConfiguration = .init()
    ) throws(ManifestError) -> SkillManifest {
        try parse(Array(source.utf8), configuration: configuration)
    }
}

/// Walks the header block once, collecting values and problems.
private struct HeaderParser {
    let configuration: ManifestConfiguration
    var problems: [ManifestProblem] = []
    var skill: (line: Int, value: String)?
    var description: (line: Int, value: String)?
    var timeout: (line: Int, value: Int)?
    var secrets: [SecretName] = []
    var hosts: [HostPattern] = []
    var headerLines = 0
    /// Whether any `@skill` line was seen, valid or not (an invalid one is reported once, as itself).
    var sawSkillTag = false

    init(configuration: ManifestConfiguration) { self.configuration = configuration }

    mutating func parse(_ text: String) throws(ManifestError) -> SkillManifest {
        let lines = javaScriptLines(text)
        var index = 0
        if index < lines.count, lines[index].hasPrefix("#!") { index += 1 }
        while index < lines.count, trimmed(lines[index]).isEmpty { index += 1 }
        while index < lines.count {
            let line = trimmed(lines[index])
            guard line.hasPrefix("//") else { break }
            headerLines = index + 1
            readComment(line.dropFirst(2), line: index + 1)
            index += 1
        }
        if !sawSkillTag {
            problems.append(.init(line: 0, tag: "skill", message: "the header must name the skill: add a line '// @skill my-skill' at the top"))
        }
        if secrets.count > configuration.maxSecrets {
            problems.append(.init(line: 0, tag: "secrets", message: "\(secrets.count) secrets declared, more than the limit of \(configuration.maxSecrets)"))
        }
        if hosts.count > configuration.maxHosts {
            problems.append(.init(line: 0, tag: "network", message: "\(hosts.count) hosts declared, more than the limit of \(configuration.maxHosts)"))
        }
        guard problems.isEmpty, let skill else {
            throw ManifestError(problems: problems.sorted { ($0.line, $0.tag ?? "") < ($1.line, $1.tag ?? "") })
        }
        return SkillManifest(
            skill: skill.value, description: description?.value, secrets: secrets, network: hosts,
            timeoutSeconds: timeout?.value ?? configuration.defaultTimeoutSeconds, headerLineCount: headerLines)
    }

    /// Reads the text after `//`: a `@tag value` line, or free commentary.
    mutating func readComment(_ body: Substring, line: Int) {
        let body = trimmed(body)
        guard body.hasPrefix("@") else { return }
        let afterAt = body.dropFirst()
        let nameEnd = afterAt.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? afterAt.endIndex
        let name = String(afterAt[..<nameEnd])
        let value = String(trimmed(afterAt[nameEnd...]))
        guard let tag = ManifestTag(rawValue: name) else {
            let hint = TagSuggestion.closest(to: name).map { ": did you mean @\($0.rawValue)?" } ?? " (known tags: "
                + ManifestTag.allCases.map { "@" + $0.rawValue }.joined(separator: ", ") + ")"
            problems.append(.init(line: line, tag: printable(name, limit: 40), message: "unknown tag @\(printable(name, limit: 40))\(hint)"))
            return
        }
        if value.isEmpty {
            problems.append(.init(line: line, tag: tag.rawValue, message: "@\(tag.rawValue) needs a value"))
            return
        }
        read(tag, value: value, line: line)
    }

    mutating func read(_ tag: ManifestTag, value: String, line: Int) {
        func fail(_ message: String) { problems.append(.init(line: line, tag: tag.rawValue, message: message)) }
        func once(_ previous: Int?) -> Bool {
            guard let previous else { return true }
            fail("@\(tag.rawValue) is already declared on line \(previous)")
            return false
        }
        switch tag {
        case .skill:
            sawSkillTag = true
            guard once(skill?.line) else { return }
            if let problem = slugProblem(value) { return fail(problem) }
            skill = (line, value)
        case .description:
            guard once(description?.line) else { return }
            if value.count > configuration.maxDescriptionLength {
                return fail("description is \(value.count) characters, more than the limit of \(configuration.maxDescriptionLength)")
            }
            if value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || isBidiControl($0) }) {
                return fail("description contains control characters")
            }
            description = (line, value)
        case .timeout:
            guard once(timeout?.line) else { return }
            guard value.utf8.allSatisfy(isDigit), value.count <= 6, let seconds = Int(value) else {
                return fail("'\(printable(value))' is not a whole number of seconds")
            }
            guard (1...configuration.maxTimeoutSeconds).contains(seconds) else {
                return fail("\(seconds) s is outside 1…\(configuration.maxTimeoutSeconds) s")
            }
            timeout = (line, seconds)
        case .secrets:
            switch SecretName.validate(value) {
            case .failure(let error): fail(error.message)
            case .success(let name) where secrets.contains(name): fail("\(name) is declared twice")
            case .success(let name): secrets.append(name)
            }
        case .network:
            switch HostPattern.validate(value) {
            case .failure(let error): fail(error.message)
            case .success(let host) where hosts.contains(host): fail("\(host) is declared twice")
            case .success(let host): hosts.append(host)
            }
        }
    }

    /// A short slug: lowercase letters, digits, '-', '_' and '.', starting with a letter or digit.
    func slugProblem(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        guard bytes.count <= 64 else { return "skill id is longer than 64 characters" }
        guard let first = bytes.first, isLower(first) || isDigit(first),
            bytes.allSatisfy({ isLower($0) || isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") })
        else {
            return "'\(printable(value))' is not a slug: use lowercase letters, digits, '-', '_' and '.'"
        }
        return nil
    }
}

/// Splits on every JavaScript line terminator.
func javaScriptLines(_ text: String) -> [Substring] {
    var lines: [Substring] = []
    var start = text.startIndex
    var index = start
    while index < text.endIndex {
        let scalar = text.unicodeScalars[index]
        let isBreak = scalar == "\n" || scalar == "\r" || scalar.value == 0x2028 || scalar.value == 0x2029
        let next = text.unicodeScalars.index(after: index)
        if isBreak {
            lines.append(text[start..<index])
            // "\r\n" is one terminator.
            start = (scalar == "\r" && next < text.endIndex && text.unicodeScalars[next] == "\n")
                ? text.unicodeScalars.index(after: next) : next
            index = start
        } else {
            index = next
        }
    }
    lines.append(text[start...])
    return lines
}

func trimmed(_ text: some StringProtocol) -> Substring {
    let scalars = Substring(text).unicodeScalars
    let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0.value == 0xFEFF || $0.value == 0x0B || $0.value == 0x0C }
    guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return Substring() }
    let last = scalars.lastIndex(where: { !isSpace($0) })!
    return Substring(scalars[first...last])
}


import Foundation

/// The relative links of Markdown pages and whether each resolves: to a file or folder inside the repository and,
/// with a `#fragment` into a Markdown file, to one of its headings as GitHub anchors them.
struct MarkdownLinks {
    /// The repository's root; a link may not leave it.
    let root: URL

    /// One link that does not resolve, and why.
    struct Broken: CustomStringConvertible, Equatable {
        var page: String
        var line: Int
        var target: String
        var reason: String
        var description: String { "\(page):\(line): (\(target)) \(reason)" }
    }

    /// Every broken relative link of `page` (a path relative to the root).
    func broken(in page: String) throws -> [Broken] {
        let url = root.appendingPathComponent(page)
        let text = try String(contentsOf: url, encoding: .utf8)
        var problems: [Broken] = []
        for (line, target) in Self.links(in: text) where !Self.isExternal(target) {
            let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
            let path = String(parts[0]), fragment = parts.count > 1 ? String(parts[1]) : nil
            let file = path.isEmpty ? url : url.deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL
            func report(_ reason: String) { problems.append(Broken(page: page, line: line, target: target, reason: reason)) }
            guard file.path.hasPrefix(root.standardizedFileURL.path + "/") || file.path == root.standardizedFileURL.path else {
                report("leaves the repository")
                continue
            }
            guard FileManager.default.fileExists(atPath: file.path) else {
                report("no such file: \(file.path.dropFirst(root.standardizedFileURL.path.count + 1))")
                continue
            }
            if let fragment, file.pathExtension == "md" {
                let anchors = Self.anchors(in: try String(contentsOf: file, encoding: .utf8))
                if !anchors.contains(fragment) { report("no heading with anchor #\(fragment) in \(file.lastPathComponent)") }
            }
        }
        return problems
    }

    /// `(line, target)` of each inline link `[text](target)` outside code blocks and code spans.
    static func links(in text: String) -> [(Int, String)] {
        var found: [(Int, String)] = []
        var inFence = false
        for (index, line) in text.components(separatedBy: "\n").enumerated() {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") { inFence.toggle(); continue }
            if inFence { continue }
            let prose = line.replacing(/`[^`]*`/, with: "")
            for match in prose.matches(of: /\]\(([^)\s]+)(?:\s+"[^"]*")?\)/) { found.append((index + 1, String(match.output.1))) }
        }
        return found
    }

    static func isExternal(_ target: String) -> Bool {
        target.contains("://") || target.hasPrefix("mailto:")
    }

    /// The anchors GitHub gives a page's headings: lowercased, punctuation dropped (letters, digits, spaces,
    /// `-` and `_` stay), spaces as `-`; a repeated anchor gets `-1`, `-2`, ….
    static func anchors(in text: String) -> Set<String> {
        var seen: [String: Int] = [:]
        var anchors: Set<String> = []
        var inFence = false
        for line in text.components(separatedBy: "\n") {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") { inFence.toggle(); continue }
            guard !inFence, let match = line.wholeMatch(of: /#{1,6}\s+(.*?)\s*#*\s*/) else { continue }
            let title = String(match.output.1).lowercased()
            let slug = String(title.unicodeScalars.compactMap { scalar -> Character? in
                if scalar == " " { return "-" }
                if scalar == "-" || scalar == "_" || CharacterSet.alphanumerics.contains(scalar) { return Character(scalar) }
                return nil
            })
            let count = seen[slug, default: 0]
            seen[slug] = count + 1
            anchors.insert(count == 0 ? slug : "\(slug)-\(count)")
        }
        return anchors
    }
}

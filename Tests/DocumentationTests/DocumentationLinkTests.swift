import Foundation
import Testing

/// The README is a map: its links, the docs' and DEPLOY.md's must lead somewhere in the repository.
@Suite("Documentation links resolve")
struct DocumentationLinkTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// README.md, every page of docs/, and dstack/DEPLOY.md.
    static func pages() throws -> [String] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        return ["README.md", "dstack/DEPLOY.md"] + docs
    }

    @Test("Every relative link in README.md, docs/*.md and dstack/DEPLOY.md names a file of the repository, and each anchor a heading")
    func everyLinkResolves() throws {
        let pages = try Self.pages()
        #expect(pages.count >= 9, "docs/ lost its pages: \(pages)")
        let checker = MarkdownLinks(root: Self.repository)
        var links = 0
        for page in pages {
            links += MarkdownLinks.links(in: try String(contentsOf: Self.repository.appendingPathComponent(page), encoding: .utf8)).count
            for broken in try checker.broken(in: page) { Issue.record("broken link: \(broken)") }
        }
        #expect(links >= 30, "the link pattern found only \(links) links")
    }

    @Test("The README links every page of docs/")
    func readmeIsTheMap() throws {
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let targets = Set(MarkdownLinks.links(in: readme).map { $0.1.split(separator: "#").first.map(String.init) ?? "" })
        for page in try Self.pages() where page.hasPrefix("docs/") {
            #expect(targets.contains(page), "README.md does not link \(page)")
        }
    }

    @Test("The checker reports a missing file, a missing anchor and a link out of the repository, and nothing in code")
    func checkerFindsBrokenLinks() throws {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("links-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("docs"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try "# Other page\n\n## The `GET /v1/x` route\n\n## Twice\n\n## Twice\n".write(to: root.appendingPathComponent("docs/other.md"), atomically: true, encoding: .utf8)
        try """
            # Page

            [fine](other.md) [fine anchor](other.md#the-get-v1x-route) [second](other.md#twice-1) [self](#page)
            [gone](missing.md) [bad anchor](other.md#nothing-here) [out](../../etc/passwd) [web](https://example.com/x.md)
            `[in code](nowhere.md)`
            ```
            [in a block](nowhere.md)
            ```
            """.write(to: root.appendingPathComponent("docs/page.md"), atomically: true, encoding: .utf8)
        let broken = try MarkdownLinks(root: root).broken(in: "docs/page.md")
        #expect(broken.map(\.target) == ["missing.md", "other.md#nothing-here", "../../etc/passwd"], "\(broken)")
        #expect(broken.allSatisfy { $0.line == 4 })
    }
}

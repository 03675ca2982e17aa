import SkillManifest
import Testing

/// Parses `source`, returning the problems (empty when valid).
private func problems(_ source: String, _ configuration: ManifestConfiguration = .init()) -> [ManifestProblem] {
    do {
        _ = try SkillManifest.parse(source, configuration: configuration)
        return []
    } catch {
        return error.problems
    }
}

@Suite("Skill header parsing")
struct ParserTests {
    @Test("The architecture's example header parses to exactly what it declares")
    func exampleHeader() throws {
        let manifest = try SkillManifest.parse("""
            // @skill list-repos
            // @description List my GitHub repos
            // @secrets GH_TOKEN
            // @network api.github.com
            // @timeout 30
            const r = await fetch('https://api.github.com/user/repos')
            """)
        #expect(manifest.skill == "list-repos")
        #expect(manifest.description == "List my GitHub repos")
        #expect(manifest.secrets.map(\.rawValue) == ["GH_TOKEN"])
        #expect(manifest.network.map(\.description) == ["api.github.com:443"])
        #expect(manifest.timeoutSeconds == 30)
        #expect(manifest.headerLineCount == 5)
    }

    @Test("Repeatable tags, ports, wildcards, defaults, free comments, shebang and CRLF")
    func repeatedAndDefaults() throws {
        let manifest = try SkillManifest.parse(
            "#!/usr/bin/env -S deno run\r\n\r\n// @skill multi_host.v2\r\n// A free comment line is fine.\r\n//@secrets A_TOKEN\r\n//   @secrets _B2\r\n"
                + "// @network API.Example.com:8443\r\n// @network *.cdn.example.org\r\nconsole.log(1)\r\n")
        #expect(manifest.skill == "multi_host.v2")
        #expect(manifest.description == nil)
        #expect(manifest.secrets.map(\.rawValue) == ["A_TOKEN", "_B2"])
        #expect(manifest.network.map(\.description) == ["api.example.com:8443", "*.cdn.example.org:443"])
        #expect(manifest.timeoutSeconds == 30)
    }

    @Test("Tags after the header block grant nothing")
    func onlyTheLeadingBlockCounts() throws {
        let manifest = try SkillManifest.parse("// @skill a\nconst x = 1\n// @network evil.example.com\n// @secrets STOLEN\n")
        #expect(manifest.network.isEmpty)
        #expect(manifest.secrets.isEmpty)
    }

    @Test("U+2028 and U+2029 (line ends to JavaScript, not to HTML) are refused anywhere, with line and column")
    func javaScriptLineTerminators() {
        let found = problems("// @skill a\n// @network api.example.com\u{2028}fetch('http://169.254.169.254')\n")
        #expect(found.count == 1 && found[0].line == 2 && found[0].message.hasSuffix("what runs): U+2028 at column \("// @network api.example.com".count + 1)"), "\(found)")
        #expect(problems("// @skill a\nconsole.log(1)\u{2029}\n").first?.message.contains("U+2029") == true)
    }

    @Test("Bidirectional controls and invisible characters are refused in code as well as in the header")
    func invisibleCharacters() {
        for scalar in ["\u{202E}", "\u{2066}", "\u{200B}", "\u{FEFF}", "\u{00AD}", "\u{200F}", "\u{0085}", "\u{000B}"] {
            let found = problems("// @skill a\nconst isAdmin = false; /* \(scalar) */ console.log(isAdmin)\n")
            #expect(found.count == 1 && found[0].line == 2, "\(scalar.unicodeScalars.first!.value): \(found)")
        }
        // A lone CR is a line end to both JavaScript and HTML: allowed.
        #expect(problems("// @skill a\rconsole.log(1)\r").isEmpty)
    }

    @Test("Every problem is reported at once, in source order, with line and tag")
    func allProblemsAtOnce() {
        let found = problems("""
            // @skill Bad Skill
            // @netwrok api.example.com
            // @secrets PATH
            // @network a.com,0.0.0.0/0
            // @timeout 9999
            """)
        #expect(found.map(\.line) == [1, 2, 3, 4, 5])
        #expect(found.map(\.tag) == ["skill", "netwrok", "secrets", "network", "timeout"])
        #expect(found[1].message.contains("did you mean @network?"))
    }

    @Test("A header without @skill is refused", arguments: ["", "console.log(1)", "// just a comment\n", "// @description x\n"])
    func skillRequired(source: String) {
        let found = problems(source)
        #expect(found.contains { $0.tag == "skill" && $0.message.contains("must name the skill") })
    }

    @Test("Duplicates of single-valued tags and of values are refused")
    func duplicates() {
        let found = problems("// @skill a\n// @skill b\n// @secrets X_Y\n// @secrets X_Y\n// @network a.example.com\n// @network a.example.com:443\n// @timeout 5\n// @timeout 6\n")
        #expect(found.map(\.line) == [2, 4, 6, 8])
        #expect(found[0].message.contains("already declared on line 1"))
    }

    @Test(
        "Invalid values name the tag and say what is wrong",
        arguments: [
            ("// @skill a\n// @network a.com,0.0.0.0/0", "network", "','"),
            ("// @skill a\n// @network *", "network", "every host"),
            ("// @skill a\n// @network unix:/var/run/dstack.sock", "network", "only DNS names"),
            ("// @skill a\n// @network vsock:2:1234", "network", "only DNS names"),
            ("// @skill a\n// @network --allow-all", "network", "starts with '-'"),
            ("// @skill a\n// @network -A", "network", "starts with '-'"),
            ("// @skill a\n// @network 127.0.0.1", "network", "IP address"),
            ("// @skill a\n// @network 169.254.169.254:80", "network", "IP address"),
            ("// @skill a\n// @network 127.1", "network", "IP address"),
            ("// @skill a\n// @network 0x7f000001", "network", "fully qualified"),
            ("// @skill a\n// @network [::1]:443", "network", "IPv6"),
            ("// @skill a\n// @network ::1", "network", "IPv6"),
            ("// @skill a\n// @network 10.0.0.0/8", "network", "CIDR"),
            ("// @skill a\n// @network https://api.example.com", "network", "scheme"),
            ("// @skill a\n// @network api.example.com/path", "network", "'/'"),
            ("// @skill a\n// @network api.example.com:0", "network", "port"),
            ("// @skill a\n// @network api.example.com:70000", "network", "port"),
            ("// @skill a\n// @network api.example.com:", "network", "port"),
            ("// @skill a\n// @network api.example.com:+443", "network", "port"),
            ("// @skill a\n// @network a.com b.com", "network", "whitespace"),
            ("// @skill a\n// @network a.com\tb.com", "network", "whitespace"),
            ("// @skill a\n// @network *.com", "network", "too wide"),
            ("// @skill a\n// @network api.*.example.com", "network", "leading '*.'"),
            ("// @skill a\n// @network localhost", "network", "fully qualified"),
            ("// @skill a\n// @network foo.localhost", "network", "local machine"),
            ("// @skill a\n// @network exa_mple.com", "network", "not allowed in a host name"),
            ("// @skill a\n// @network -x.example.com", "network", "starts with '-'"),
            ("// @skill a\n// @network x-.example.com", "network", "'-'"),
            ("// @skill a\n// @network bücher.example", "network", "xn--"),
            ("// @skill a\n// @network example.com.", "network", "trailing dot"),
            ("// @skill a\n// @network user@example.com", "network", "not part of a host name"),
            ("// @skill a\n// @network", "network", "needs a value"),
            ("// @skill a\n// @secrets lower_case", "secrets", "not an environment variable name"),
            ("// @skill a\n// @secrets 1ABC", "secrets", "not an environment variable name"),
            ("// @skill a\n// @secrets A-B", "secrets", "not an environment variable name"),
            ("// @skill a\n// @secrets A,B", "secrets", "not an environment variable name"),
            ("// @skill a\n// @secrets PATH", "secrets", "configures the runtime"),
            ("// @skill a\n// @secrets HOME", "secrets", "configures the runtime"),
            ("// @skill a\n// @secrets LD_PRELOAD", "secrets", "'LD_'"),
            ("// @skill a\n// @secrets DENO_DIR", "secrets", "'DENO_'"),
            ("// @skill a\n// @secrets NO_COLOR", "secrets", "configures the runtime"),
            ("// @skill a\n// @secrets HTTPS_PROXY", "secrets", "configures the runtime"),
            ("// @skill a\n// @secrets NO_PROXY", "secrets", "configures the runtime"),
            ("// @skill a\n// @secrets ___", "secrets", "not a usable name"),
            ("// @skill a\n// @secrets " + String(repeating: "A", count: 65), "secrets", "longer than 64"),
            ("// @skill a\n// @timeout 0", "timeout", "outside"),
            ("// @skill a\n// @timeout 301", "timeout", "outside"),
            ("// @skill a\n// @timeout 1.5", "timeout", "whole number"),
            ("// @skill a\n// @timeout -1", "timeout", "whole number"),
            ("// @skill a\n// @timeout 30s", "timeout", "whole number"),
            ("// @skill UPPER", "skill", "not a slug"),
            ("// @skill -x", "skill", "not a slug"),
            ("// @skill a/b", "skill", "not a slug"),
            ("// @skill " + String(repeating: "a", count: 65), "skill", "longer than 64"),
            ("// @skill a\n// @description " + String(repeating: "d", count: 501), "description", "limit of 500"),
            ("// @skill a\n// @description bad\u{7}bell", "description", "control characters"),
            ("// @skill a\n// @netwrok api.example.com", "netwrok", "did you mean @network?"),
            ("// @skill a\n// @secret X_TOKEN", "secret", "did you mean @secrets?"),
            ("// @skill a\n// @Network api.example.com", "Network", "did you mean @network?"),
            ("// @skill a\n// @timeuot 5", "timeuot", "did you mean @timeout?"),
            ("// @skill a\n// @allow-all yes", "allow-all", "known tags"),
        ] as [(String, String, String)])
    func invalidValue(source: String, tag: String, fragment: String) {
        let found = problems(source)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.tag == tag, "\(found)")
        #expect(found.first?.message.contains(fragment) == true, "\(found.first?.message ?? "none") lacks \(fragment)")
    }

    @Test("Source checks: size cap, NUL bytes, invalid UTF-8")
    func sourceChecks() {
        let small = ManifestConfiguration(maxSourceBytes: 64)
        #expect(problems("// @skill a\n" + String(repeating: "x", count: 100), small).first?.message.contains("limit of 64") == true)
        #expect(throws: ManifestError.self) { try SkillManifest.parse(Array("// @skill a\n\u{0}".utf8)) }
        do {
            _ = try SkillManifest.parse([0x2F, 0x2F, 0x20, 0xC3, 0x28] as [UInt8])
            Issue.record("invalid UTF-8 accepted")
        } catch {
            #expect(error.problems.first?.message == "source is not valid UTF-8")
        }
    }

    @Test("Bidirectional override characters anywhere in the source are refused")
    func trojanSource() {
        let found = problems("// @skill a\nconst admin = false; /*\u{202E} } if (admin) { \u{2066}*/\n")
        #expect(found.count == 1)
        #expect(found.first?.line == 2)
    }

    @Test("Counts of hosts and secrets are bounded by the configuration")
    func countBounds() {
        let configuration = ManifestConfiguration(maxSecrets: 2, maxHosts: 1)
        let found = problems("// @skill a\n// @secrets A\n// @secrets B\n// @secrets C\n// @network a.example.com\n// @network b.example.com\n", configuration)
        #expect(found.map(\.tag) == ["network", "secrets"])
        #expect(found.allSatisfy { $0.message.contains("more than the limit") })
    }

    @Test("The timeout is bounded by the operator's maximum, not a fixed 300")
    func operatorMaximum() throws {
        let configuration = ManifestConfiguration(defaultTimeoutSeconds: 5, maxTimeoutSeconds: 10)
        #expect(try SkillManifest.parse("// @skill a\n", configuration: configuration).timeoutSeconds == 5)
        #expect(problems("// @skill a\n// @timeout 11", configuration).first?.message.contains("1…10") == true)
    }
}

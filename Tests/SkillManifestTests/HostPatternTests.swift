import SkillManifest
import Testing

private func host(_ text: String) throws -> HostPattern { try HostPattern.validate(text).get() }

@Suite("@network host patterns")
struct HostPatternTests {
    @Test("Deno permission strings carry the port, default 443")
    func denoPermission() throws {
        #expect(try host("api.github.com").denoPermission == "api.github.com:443")
        #expect(try host("*.github.com:8443").denoPermission == "*.github.com:8443")
        #expect(try host("xn--bcher-kva.example").denoPermission == "xn--bcher-kva.example:443")
    }

    @Test(
        "Matching a connection: names, wildcards (subdomains only), ports",
        arguments: [
            ("api.example.com", "api.example.com", 443, true),
            ("api.example.com", "API.example.com", 443, true),
            ("api.example.com", "api.example.com", 80, false),
            ("api.example.com", "x.api.example.com", 443, false),
            ("api.example.com", "example.com", 443, false),
            ("*.example.com", "api.example.com", 443, true),
            ("*.example.com", "a.b.example.com", 443, true),
            ("*.example.com", "example.com", 443, false),
            ("*.example.com", "evilexample.com", 443, false),
            ("*.example.com", "example.com.evil.org", 443, false),
            ("*.example.com:8080", "api.example.com", 443, false),
        ] as [(String, String, Int, Bool)])
    func matches(pattern: String, name: String, port: Int, expected: Bool) throws {
        #expect(try host(pattern).matches(host: name, port: port) == expected)
    }

    @Test(
        "Covering another pattern: a wildcard covers names and narrower wildcards, ports must match",
        arguments: [
            ("*.example.com", "api.example.com", true),
            ("*.example.com", "*.api.example.com", true),
            ("*.example.com", "*.example.com", true),
            ("*.example.com", "example.com", false),
            ("*.api.example.com", "*.example.com", false),
            ("api.example.com", "api.example.com", true),
            ("api.example.com", "*.api.example.com", false),
            ("api.example.com", "api.example.com:8443", false),
            ("*.example.com:8443", "api.example.com:8443", true),
        ] as [(String, String, Bool)])
    func covers(policy: String, skill: String, expected: Bool) throws {
        #expect(try host(policy).covers(host(skill)) == expected)
    }
}

@testable import Gateway
import SkillManifest
import Testing

/// The matching rules of session policies, as a table.
@Suite("Session policy matching")
struct SessionPolicyTests {
    static let policy = SessionPolicy(
        description: "GitHub read access", constraints: ["read only"], secrets: ["GH_TOKEN"],
        networks: ["api.github.com:443", "*.githubusercontent.com:443", "uploads.example.com:8443"])

    @Test(
        "Which skills fit (no gaps) and which gaps are named",
        arguments: [
            ("// @skill a\n// @secrets GH_TOKEN\n// @network api.github.com\n", [], []),
            ("// @skill a\n", [], []),
            ("// @skill a\n// @network raw.githubusercontent.com\n", [], []),
            ("// @skill a\n// @network a.b.githubusercontent.com\n", [], []),
            ("// @skill a\n// @network *.githubusercontent.com\n", [], []),
            ("// @skill a\n// @network *.raw.githubusercontent.com\n", [], []),
            ("// @skill a\n// @network githubusercontent.com\n", [], ["githubusercontent.com:443"]),
            ("// @skill a\n// @network *.github.com\n", [], ["*.github.com:443"]),
            ("// @skill a\n// @network api.github.com:80\n", [], ["api.github.com:80"]),
            ("// @skill a\n// @network uploads.example.com\n", [], ["uploads.example.com:443"]),
            ("// @skill a\n// @network uploads.example.com:8443\n", [], []),
            ("// @skill a\n// @network evil.com\n", [], ["evil.com:443"]),
            ("// @skill a\n// @secrets GH_TOKEN\n// @secrets NPM_TOKEN\n", ["NPM_TOKEN"], []),
            ("// @skill a\n// @secrets OTHER\n// @network x.example.org\n", ["OTHER"], ["x.example.org:443"]),
        ] as [(String, [String], [String])])
    func gaps(skill: String, secrets: [String], networks: [String]) throws {
        let manifest = try SkillManifest.parse(skill)
        let gaps = Self.policy.gaps(for: manifest)
        #expect(gaps.secrets == secrets)
        #expect(gaps.networks == networks)
    }

    @Test("Asking again can only add, never remove")
    func additionsOnly() {
        let added = Self.policy.adding(SessionPolicy(description: "", constraints: ["no deletes"], secrets: ["NPM_TOKEN"], networks: ["registry.npmjs.org:443"]))
        #expect(added.secrets == ["GH_TOKEN", "NPM_TOKEN"])
        #expect(added.networks.count == 4 && added.networks.contains("api.github.com:443"))
        #expect(added.constraints == ["read only", "no deletes"])
        #expect(added.description == "GitHub read access")
    }
}

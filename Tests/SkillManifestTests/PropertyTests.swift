import PropertyBased
import SkillManifest
import Testing

/// Characters that matter to the parser, so random input hits its branches rather than only free text.
private let alphabet: [Character] = Array("/@ \t\n\r:.,*-_[]0123456789azAZ") + ["\u{0}", "\u{2028}", "\u{202E}", "é", "\u{FEFF}"]
private let tokens = ["// @skill a\n", "// @network ", "// @secrets ", "// @timeout ", "*.", ":443", "\n", "127.0.0.1", "x.example.com", "LD_", ","]
/// Half character soup, half header-shaped token sequences.
private let interesting = Gen.int(in: 0..<(alphabet.count + tokens.count)).array(of: 0...120).map { picks in
    picks.map { $0 < alphabet.count ? String(alphabet[$0]) : tokens[$0 - alphabet.count] }.joined()
}

@Suite("Parser properties")
struct PropertyTests {
    @Test("Arbitrary bytes never crash the parser; every refusal carries at least one problem")
    func neverCrashesOnBytes() async {
        await propertyCheck(count: 2000, input: Gen.uint8().array(of: 0...400)) { bytes in
            do throws(ManifestError) {
                _ = try SkillManifest.parse(bytes)
            } catch {
                #expect(!error.problems.isEmpty)
            }
        }
    }

    @Test("Header-shaped input: accepted hosts can never widen Deno's --allow-net list")
    func acceptedHostsStayNarrow() async {
        await propertyCheck(count: 3000, input: interesting) { text in
            guard let manifest = try? SkillManifest.parse(text) else { return }
            for pattern in manifest.network {
                let flag = pattern.denoPermission
                #expect(!flag.contains(","), "\(flag)")
                #expect(!flag.contains { $0.isWhitespace }, "\(flag)")
                #expect(!flag.hasPrefix("-"), "\(flag)")
                #expect(flag != "*:443")
                // What we print re-validates to the same pattern.
                #expect((try? HostPattern.validate(flag).get()) == pattern)
            }
            for name in manifest.secrets {
                #expect(name.rawValue.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") })
            }
        }
    }
}

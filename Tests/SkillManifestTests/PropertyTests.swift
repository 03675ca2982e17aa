import PropertyBased
import SkillManifest
import Testing

/// Characters that matter to the parser, so random input hits its branches rather than only free text.
private let alphabet: [Character] = Array("/@ \t\n\r:.,*-_[]0123456789azAZ") + ["\u{0}", "\u{2028}", "\u{202E}", "é", "\u{FEFF}"]
/// Labels (the last one of a name must be alphabetic: "9" and "xn--…" there are refused), the pieces a
/// host may carry, and what must never pass: separators Deno's flag would split on, IP forms, schemes.
private let labels = ["api", "example", "com", "io", "x", "github", "xn--bcher-kva", "a-b", "9"]
private let ports = [":443", ":8080", ":1", ":65535", ":0", ":70000", ":+1", ":"]
private let bad = [
    ",", " ", "\t", "/", "@", "[", "]", "::1", "127.0.0.1", "0x7f", "é", "\u{2028}", "*", "-", "_", "=", "%2e", "..", "localhost",
    "http://", "\u{0}", "\u{202E}",
]
/// Headers of one to three `@network` lines, each a name of two to four labels, perhaps a wildcard and a
/// port, and in a third of the lines one piece that must be refused: enough valid headers that the
/// assertions on accepted hosts run hundreds of times, and enough invalid ones to test refusal.
private let headers = Gen.int(in: 0..<10_000).array(of: 6).array(of: 1...3).map { lines in
    "// @skill a\n" + lines.map { r in
        var pieces = (0...(1 + r[1] % 3)).map { labels[(r[2] / (1 + $0 * 7)) % labels.count] }.flatMap { [$0, "."] }.dropLast()
        if r[0] % 4 == 0 { pieces.insert("*.", at: 0) }
        if r[5] % 5 == 0 { pieces.append(ports[r[4] % ports.count]) }
        if r[3] % 3 == 0 { pieces.insert(bad[r[4] % bad.count], at: r[3] % (pieces.count + 1)) }
        return "// @network " + pieces.joined() + "\n"
    }.joined() + "// @secrets TOKEN_1\n"
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

    @Test("Header-shaped input: accepted hosts can never widen Deno's --allow-net list (and hundreds are accepted)")
    func acceptedHostsStayNarrow() async {
        var acceptedHosts = 0, refusedHeaders = 0
        await propertyCheck(count: 3000, input: headers) { text in
            guard let manifest = try? SkillManifest.parse(text) else {
                refusedHeaders += 1
                return
            }
            #expect(!manifest.network.isEmpty, "a header with @network lines parsed to no hosts: \(text.debugDescription)")
            for pattern in manifest.network {
                acceptedHosts += 1
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
        // The assertions above ran on accepted hosts often enough to mean something, and refusals happened too.
        #expect(acceptedHosts >= 300, "only \(acceptedHosts) accepted hosts in 3000 headers")
        #expect(refusedHeaders >= 300, "only \(refusedHeaders) refused headers in 3000")
    }

    @Test("Character soup around header tokens never crashes, and every refusal names a problem")
    func soup() async {
        let tokens = ["// @skill a\n", "// @network ", "// @secrets ", "// @timeout ", "*.", ":443", "\n", "127.0.0.1", "x.example.com", "LD_", ","]
        let soup = Gen.int(in: 0..<(alphabet.count + tokens.count)).array(of: 0...120).map { picks in
            picks.map { $0 < alphabet.count ? String(alphabet[$0]) : tokens[$0 - alphabet.count] }.joined()
        }
        await propertyCheck(count: 2000, input: soup) { text in
            do throws(ManifestError) {
                _ = try SkillManifest.parse(text)
            } catch {
                #expect(!error.problems.isEmpty)
            }
        }
    }
}

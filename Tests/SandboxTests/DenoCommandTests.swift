import Egress
import Foundation
import OAuth3Wire
@testable import Sandbox
import SkillManifest
import TestSupport
import Testing

@Suite("Deno command line")
struct DenoCommandTests {
    let ranges = ["10.0.0.0/8", "fc00::/7", "169.254.0.0/16"].compactMap(IPRange.init)

    @Test("No hosts, no secrets: every permission denied but reading the environment, which holds only Deno's settings; script on stdin")
    func denyEverything() throws {
        let manifest = try SkillManifest.parse("// @skill a\n")
        let command = DenoCommand(manifest: manifest, secrets: [:], limits: .init(heapMiB: 128), refusedRanges: ranges)
        #expect(command.arguments == [
            "run", "--no-prompt", "--no-config", "--no-lock", "--no-npm", "--no-remote", "--deny-import", "--deny-read",
            "--deny-write", "--deny-run", "--deny-ffi", "--deny-sys", "--allow-env", "--deny-net",
            "--v8-flags=--max-old-space-size=128", "-",
        ])
        #expect(command.environment.map { $0.name } == ["HOME", "TMPDIR", "DENO_DIR", "NO_COLOR", "DENO_NO_UPDATE_CHECK", "DENO_DISABLE_NODE_SHIM"])
        #expect(command.environment.map { $0.value } == ["/home", "/tmp", "/deno", "1", "1", "1"])
    }

    @Test("Declared hosts with ports, private IPv4 ranges still denied; only granted secrets allowed and passed")
    func grants() throws {
        let manifest = try SkillManifest.parse("// @skill a\n// @network api.example.com\n// @network *.cdn.example.org:8443\n// @secrets A_KEY\n// @secrets B_KEY\n")
        let name = try SecretName.validate("A_KEY").get()
        let command = DenoCommand(manifest: manifest, secrets: [name: "v"], limits: .init(), refusedRanges: ranges)
        #expect(command.arguments.contains("--allow-net=api.example.com:443,*.cdn.example.org:8443"))
        #expect(command.arguments.contains("--deny-net=localhost,10.0.0.0/8,169.254.0.0/16"))
        #expect(command.arguments.contains("--allow-env") && !command.arguments.contains("--deny-env"))
        #expect(!command.environment.contains { $0.name == "B_KEY" })  // B_KEY has no value: not granted
        #expect(command.secretNames == ["A_KEY"])
        #expect(command.environment.last! == ("A_KEY", "v"))
        #expect(command.arguments.last == "-")
        #expect(!command.environment.contains { $0.name.hasSuffix("_PROXY") })
        #expect(!command.arguments.contains { $0.contains("allow-all") || $0 == "-A" || $0.hasPrefix("--allow-read") || $0.hasPrefix("--allow-run") })
    }

    @Test("A job with hosts sends fetches through the bridge's proxy, which Deno's own --deny-net must not cover")
    func egressProxy() throws {
        let manifest = try SkillManifest.parse("// @skill a\n// @network api.example.com\n")
        let withLoopback = ranges + [IPRange("127.0.0.0/8")!, IPRange("0.0.0.0/8")!]
        let command = DenoCommand(manifest: manifest, secrets: [:], limits: .init(), refusedRanges: withLoopback, egressProxy: "http://127.0.0.1:3128")
        #expect(command.arguments.contains("--deny-net=localhost,10.0.0.0/8,169.254.0.0/16,0.0.0.0/8"))
        #expect(command.environment.filter { $0.name.hasSuffix("_PROXY") }.map { "\($0.name)=\($0.value)" } == [
            "HTTP_PROXY=http://127.0.0.1:3128", "HTTPS_PROXY=http://127.0.0.1:3128",
        ])
        let offline = DenoCommand(
            manifest: try SkillManifest.parse("// @skill a\n"), secrets: [:], limits: .init(), refusedRanges: ranges,
            egressProxy: "http://127.0.0.1:3128")
        #expect(!offline.environment.contains { $0.name.hasSuffix("_PROXY") })
    }
}

@Suite("Redaction")
struct RedactorTests {
    let name = try! SecretName.validate("TOKEN").get()

    /// The forms of `secret` as Deno's own encoders print them (Deno run bare, outside any jail): the
    /// expectations come from the runtime a skill uses, not from the redactor's list of forms.
    static func denoForms(of secret: String) async throws -> [String: String] {
        let literal = String(decoding: try JSONEncoder().encode(secret), as: UTF8.self)
        let script = """
            const s = \(literal);
            const b64 = btoa(Array.from(new TextEncoder().encode(s), (b) => String.fromCharCode(b)).join(""));
            const url = b64.replaceAll("+", "-").replaceAll("/", "_");
            console.log(JSON.stringify({
              raw: s, btoa: b64, btoaUnpadded: b64.replace(/=+$/, ""), urlSafe: url, urlSafeUnpadded: url.replace(/=+$/, ""),
              encodeURIComponent: encodeURIComponent(s), searchParams: new URLSearchParams({ v: s }).toString().slice(2),
            }));
            """
        let home = Fixture.workRoot()
        let run = try await Fixture.execute(
            Fixture.deno, ["eval", "--no-config", script], environment: ["HOME": home, "DENO_DIR": home + "/deno", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"])
        try #require(run.status == 0, "\(run.err)")
        return try JSONDecoder().decode([String: String].self, from: Data(run.out.utf8))
    }

    @Test(
        "Every form Deno's own encoders give a secret is redacted: raw, btoa (padded, unpadded, URL-safe), encodeURIComponent, URLSearchParams",
        arguments: ["a+b/c?d=é", "tok/en+with spaces&=?(x)*!'~", "ü€😀 z"])
    func forms(secret: String) async throws {
        let forms = try await Self.denoForms(of: secret)
        #expect(forms.count == 7)
        let redactor = Redactor(secrets: [name: secret])
        for (label, form) in forms.sorted(by: { $0.key < $1.key }) {
            let text = "x " + form + " y"
            #expect(String(decoding: redactor.redact(Array(text.utf8)), as: UTF8.self) == "x [REDACTED:TOKEN] y", "\(label): \(form)")
        }
    }

    /// What a skill prints by accident when a secret sits in its data: the value through JSON.stringify (once
    /// and twice), Deno's inspector (an object, an array, a Map), every URL encoder, hex, and base64 of
    /// Basic-auth pairs and of the value after one or two other bytes (each alignment), in both alphabets.
    static let accidentalPrinter = """
        const s = Deno.args[0];
        const utf8 = (t) => Array.from(new TextEncoder().encode(t), (b) => String.fromCharCode(b)).join("");
        const b64 = (t) => btoa(utf8(t));
        const url = (t) => b64(t).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
        console.log(JSON.stringify({ config: { token: s } }));
        console.log(JSON.stringify(JSON.stringify({ token: s })));
        console.log({ token: s, other: 1 });
        console.log([s]);
        console.log(new Map([["token", s]]));
        console.log("component", encodeURIComponent(s));
        console.log("uri", encodeURI("https://x.example/?t=" + s));
        console.log("escape", escape(s));
        console.log("form", new URLSearchParams({ t: s }).toString());
        console.log("hex", Array.from(new TextEncoder().encode(s), (b) => b.toString(16).padStart(2, "0")).join(""));
        console.log("Authorization: Basic " + b64("user:" + s));
        console.log("Authorization: Basic " + b64(s + ":"));
        for (const prefix of ["", "a", "ab", "abc"]) console.log("b64", b64(prefix + s + "!"), "url", url(prefix + s));
        """

    /// Two secrets of one shape (same length, same punctuation, different random letters): if redaction
    /// leaves nothing of a value behind, the two redacted outputs are identical. This needs no list of forms:
    /// any character of the value that survives, in any encoding, makes them differ.
    static func sameShapeSecrets(_ template: String) -> (String, String) {
        func fill() -> String {
            String(template.map { $0 == "#" ? "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! : $0 })
        }
        return (fill(), fill())
    }

    @Test(
        "Accidental printing leaves nothing of a secret: JSON, Deno's inspector, multi-line values, URL encoders, hex, Basic-auth base64",
        arguments: [
            "####\"quoted\" back\\slash 'single' `tick` tab\t####",
            "-----BEGIN PRIVATE KEY-----\n" + String(repeating: "#", count: 64) + "\n" + String(repeating: "#", count: 40) + "+/=\n-----END PRIVATE KEY-----\n",
            "tok en!'()*~é€########",
            "ghp_####################################",
        ])
    func accidentalLeaks(template: String) async throws {
        let (first, second) = Self.sameShapeSecrets(template)
        var redacted: [String] = []
        for secret in [first, second] {
            let home = Fixture.workRoot()
            let run = try await Fixture.execute(
                Fixture.deno, ["eval", "--no-config", Self.accidentalPrinter, secret],
                environment: ["HOME": home, "DENO_DIR": home + "/deno", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"])
            try #require(run.status == 0, "\(run.err)")
            let output = String(decoding: Redactor(secrets: [name: secret]).redact(Array(run.out.utf8)), as: UTF8.self)
            // Twenty printings carry the value (the base64 loop prints two per prefix); each left a mark.
            #expect(output.components(separatedBy: "[REDACTED:TOKEN]").count - 1 >= 20, "\(output)")
            #expect(!output.contains(secret))
            redacted.append(output)
        }
        #expect(redacted[0] == redacted[1], "something of the value survived:\n\(redacted[0])\n---\n\(redacted[1])")
    }

    @Test("A short line of a multi-line value is not redacted on its own, a long one is; a base64 core widens to its token")
    func linesAndCores() throws {
        let redactor = Redactor(secrets: [name: "abc\nline-long-enough\nxyz"])
        #expect(String(decoding: redactor.redact(Array("abc line-long-enough xyz".utf8)), as: UTF8.self) == "abc [REDACTED:TOKEN] xyz")
        let cores = SecretForms.base64Cores("0123456789")
        #expect(cores.count == 3)  // one per alignment; the value has no + or /, so one alphabet
        let token = Data("user:0123456789".utf8).base64EncodedString()
        #expect(String(decoding: Redactor(secrets: [name: "0123456789"]).redact(Array("Basic \(token);".utf8)), as: UTF8.self) == "Basic [REDACTED:TOKEN];")
    }

    @Test("A longer secret containing a shorter one is redacted whole")
    func longestFirst() throws {
        let short = try SecretName.validate("SHORT").get()
        let redactor = Redactor(secrets: [name: "abc123xyz", short: "abc"])
        #expect(String(decoding: redactor.redact(Array("abc123xyz abc".utf8)), as: UTF8.self) == "[REDACTED:TOKEN] [REDACTED:SHORT]")
    }

    @Test("A secret cut in half by truncation does not leak its first part")
    func truncatedTail() {
        let redactor = Redactor(secrets: [name: "supersecretvalue"])
        let cut = Array("output: supers".utf8)
        #expect(String(decoding: redactor.redact(cut, truncated: true), as: UTF8.self) == "output: [REDACTED:TOKEN]")
        #expect(String(decoding: redactor.redact(cut, truncated: false), as: UTF8.self) == "output: supers")
    }

    @Test("No secrets, or empty values, leave output unchanged")
    func nothingToRedact() {
        let bytes = Array("hello".utf8)
        #expect(Redactor(secrets: [:]).redact(bytes) == bytes)
        #expect(Redactor(secrets: [name: ""]).redact(bytes) == bytes)
    }
}

@Suite("Outcome classification")
struct OutcomeClassifierTests {
    func observation(_ termination: ProcessObservation.Termination, timedOut: Bool = false, output: Bool = false, stderr: String = "") -> ProcessObservation {
        var err = CappedBuffer(cap: 1 << 20)
        _ = Array(stderr.utf8).withUnsafeBytes { err.append($0) }
        return ProcessObservation(termination: termination, stdout: CappedBuffer(cap: 10), stderr: err, timedOut: timedOut, outputLimitHit: output, duration: .zero)
    }

    func classify(_ observation: ProcessObservation, oomKills: UInt64 = 0, pidsHits: UInt64 = 0, jailFailure: String? = nil) -> Outcome {
        let usage = JobCgroup.Usage(memoryPeakBytes: nil, oomKills: oomKills, pidsLimitHits: pidsHits, cpuUserMicroseconds: nil, cpuSystemMicroseconds: nil)
        return OutcomeClassifier.classify(observation, usage: usage, jailFailure: jailFailure)
    }

    @Test("The daemon's own observations come before the exit status")
    func precedence() {
        #expect(classify(observation(.exited(0), timedOut: true)) == .timeout)
        #expect(classify(observation(.exited(0), output: true)) == .outputLimit)
        #expect(classify(observation(.exited(0)), jailFailure: "exec 2 x") == .sandboxError)
        #expect(classify(observation(.signaled(9))) == .killed)
        #expect(classify(observation(.signaled(5), stderr: "# Fatal JavaScript out of memory: Reached heap limit")) == .heapOOM)
        #expect(classify(observation(.signaled(5))) == .killed)
        #expect(classify(observation(.exited(133), stderr: "Fatal JavaScript out of memory")) == .exitNonzero)
        #expect(classify(observation(.exited(0))) == .ok)
        #expect(OutcomeClassifier.classify(observation(.exited(0)), usage: nil, jailFailure: nil) == .ok)
    }

    @Test("Kernel counters and limit signals name the limit, even when the script exits 0")
    func kernelLimits() {
        #expect(classify(observation(.signaled(9)), oomKills: 1) == .memoryLimit)
        #expect(classify(observation(.exited(0)), oomKills: 1) == .memoryLimit)
        #expect(classify(observation(.exited(0)), pidsHits: 3) == .pidsLimit)
        #expect(classify(observation(.signaled(31))) == .seccompViolation)
        #expect(classify(observation(.signaled(25))) == .fileSizeLimit)
        #expect(classify(observation(.signaled(24))) == .cpuLimit)
        #expect(classify(observation(.signaled(31)), pidsHits: 1) == .seccompViolation)
        #expect(classify(observation(.exited(0), timedOut: true), oomKills: 1) == .timeout)
    }

    @Test("Output caps keep exactly the cap and flag the overflow once")
    func cappedBuffer() {
        var buffer = CappedBuffer(cap: 5)
        #expect(Array("abc".utf8).withUnsafeBytes { buffer.append($0) } == false)
        #expect(Array("defg".utf8).withUnsafeBytes { buffer.append($0) } == true)
        #expect(Array("h".utf8).withUnsafeBytes { buffer.append($0) } == false)
        #expect(buffer.bytes == Array("abcde".utf8) && buffer.overflowed && buffer.totalBytes == 8)
    }
}

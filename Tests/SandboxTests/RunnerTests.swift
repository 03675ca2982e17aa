import Crypto
import Foundation
import OAuth3Wire
@testable import Sandbox
import SkillManifest
import TestSupport
import Testing

@Suite("Running skills in real Deno", .timeLimit(.minutes(2)))
struct RunnerTests {
    @Test("Hello world: ok, its output, and a result that names what ran")
    func helloWorld() async throws {
        let source = "// @skill hello\nconsole.log('hello, world')\n"
        let result = try await Fixture.run(source)
        #expect(result.outcome == .ok)
        #expect(result.success && result.status == "completed")
        #expect(result.stdout == "hello, world\n")
        #expect(result.stderr == "")
        #expect(result.exitCode == 0 && result.signal == nil)
        #expect(result.codeSHA256 == SHA256.hash(data: Data(source.utf8)).map { String(format: "%02x", $0) }.joined())
        #expect(result.denoVersion == "2.9.8")
        #expect(result.policySHA256 == (try PolicySet.load(from: Fixture.policies)).sha256)
        #expect(result.granted == .init(net: [], env: []))
    }

    @Test("A declared secret is readable, and redacted from output in raw, base64 and URL-encoded form")
    func secretReadableAndRedacted() async throws {
        let secret = "tok/en+with spaces&=?(x)!'*\(UUID().uuidString)"
        let result = try await Fixture.run(
            """
            // @skill secret
            // @secrets API_TOKEN
            const t = Deno.env.get("API_TOKEN")!;
            console.log("raw", t);
            console.log("len", t.length);
            console.log("b64", btoa(t));
            console.error("url", encodeURIComponent(t));
            console.error("query", new URLSearchParams({ t }).toString());
            """, secrets: ["API_TOKEN": secret])
        #expect(result.outcome == .ok)
        #expect(result.stdout.contains("len \(secret.count)\n"))  // the skill really read it
        #expect(result.stdout.contains("raw [REDACTED:API_TOKEN]\n"))
        #expect(result.stdout.contains("b64 [REDACTED:API_TOKEN]\n"))
        #expect(result.stderr == "url [REDACTED:API_TOKEN]\nquery t=[REDACTED:API_TOKEN]\n")
        #expect(!result.stdout.contains(secret) && !result.stderr.contains(secret))
        #expect(result.granted.env == ["API_TOKEN"])
    }

    @Test("Accidental leaks of a multi-line secret in a real jailed run: JSON, inspector, Basic auth, one byte per write; nothing survives")
    func accidentalLeaksRedacted() async throws {
        let template = "-----BEGIN KEY-----\n" + String(repeating: "#", count: 48) + "\n\"" + String(repeating: "#", count: 20) + "\\\n-----END KEY-----"
        var outputs: [String] = []
        for _ in 0..<2 {
            let secret = String(template.map { $0 == "#" ? "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! : $0 })
            let result = try await Fixture.run(
                """
                // @skill leaky
                // @secrets PEM_KEY
                const k = Deno.env.get("PEM_KEY")!;
                console.log(JSON.stringify({ settings: { key: k } }));
                console.log({ key: k });
                console.error("Authorization: Basic " + btoa("svc:" + k));
                const bytes = new TextEncoder().encode(k);
                for (let i = 0; i < bytes.length; i++) Deno.stdout.writeSync(bytes.subarray(i, i + 1));
                for (let i = 0; i < bytes.length; i++) Deno.stderr.writeSync(bytes.subarray(i, i + 1));
                """, secrets: ["PEM_KEY": secret])
            #expect(result.outcome == .ok, "\(result.stderr)")
            #expect(result.stderr.hasPrefix("Authorization: Basic [REDACTED:PEM_KEY]\n"), "\(result.stderr)")
            #expect(result.stdout.hasSuffix("[REDACTED:PEM_KEY]") && result.stderr.hasSuffix("[REDACTED:PEM_KEY]"))
            outputs.append(result.stdout + "\u{0}" + result.stderr)
        }
        // Same shape, different random letters: any surviving piece of either value makes these differ.
        #expect(outputs[0] == outputs[1], "\(outputs[0])\n---\n\(outputs[1])")
    }

    @Test("Undeclared variables read as absent, and the environment holds the granted secret and Deno's settings, nothing of the host")
    func undeclaredEnvironment() async throws {
        let result = try await Fixture.run(
            """
            // @skill env
            // @secrets ONLY_THIS
            for (const name of ["PATH", "NOT_DECLARED", "USER"]) console.log(name, String(Deno.env.get(name)))
            console.log(Object.keys(Deno.env.toObject()).sort().join(","))
            """, secrets: ["ONLY_THIS": "x", "NOT_DECLARED": "leak"])
        #expect(result.outcome == .ok, "\(result.stderr)")
        #expect(result.stdout == "PATH undefined\nNOT_DECLARED undefined\nUSER undefined\nDENO_DIR,DENO_DISABLE_NODE_SHIM,DENO_NO_UPDATE_CHECK,HOME,NO_COLOR,ONLY_THIS,TMPDIR\n")
        #expect(result.warnings.count == 1 && result.warnings[0].contains("NOT_DECLARED"))
    }

    @Test("Fetching an undeclared host, or any host without @network, is refused")
    func undeclaredHost() async throws {
        let probe = """
            for (const url of ["https://undeclared.example.org/", "http://127.0.0.1:8080/", "http://169.254.169.254/"]) {
              try { await fetch(url); console.log(url, "reached") } catch (e) {
                console.log(url, String(e.cause?.message ?? e.message).includes("Requires net access") ? "refused" : "other: " + e)
              }
            }
            """
        let declared = try await Fixture.run("// @skill net\n// @network api.example.com\n" + probe)
        #expect(declared.stdout.split(separator: "\n").count == 3, "\(declared.stdout) \(declared.stderr)")
        #expect(declared.stdout.split(separator: "\n").allSatisfy { $0.hasSuffix(" refused") }, "\(declared.stdout)")
        #expect(declared.granted.net == ["api.example.com:443"])
        let none = try await Fixture.run("// @skill offline\n" + probe)
        #expect(none.stdout.split(separator: "\n").count == 3)
        #expect(none.stdout.split(separator: "\n").allSatisfy { $0.hasSuffix(" refused") }, "\(none.stdout)")
    }

    @Test("for(;;){} ends as timeout within a second of its limit, leaving no process behind")
    func infiniteLoop() async throws {
        let marker = "marker-\(UUID().uuidString)"
        let result = try await Fixture.run("// @skill spin\n// @secrets MARK\n// @timeout 1\nfor (;;) {}\n", secrets: ["MARK": marker])
        #expect(result.outcome == .timeout)
        #expect(result.signal == "SIGKILL")
        #expect((1000..<2000).contains(result.duration), "took \(result.duration) ms")
        #expect(Fixture.processes(withEnvironmentContaining: marker).isEmpty)
    }

    @Test("A timer that keeps the event loop alive is a timeout too")
    func pendingTimer() async throws {
        let result = try await Fixture.run("// @skill timer\n// @timeout 1\nsetInterval(() => {}, 50)\n")
        #expect(result.outcome == .timeout)
    }

    @Test("An output flood ends as output_limit at once, not at the timeout", arguments: ["stdout", "stderr"])
    func outputFlood(stream: String) async throws {
        let runner = try await Fixture.runner { $0.stdoutMaxBytes = 64 * 1024; $0.stderrMaxBytes = 64 * 1024 }
        let write = stream == "stdout" ? "console.log" : "console.error"
        let result = try await Fixture.run(
            "// @skill flood\n// @timeout 60\nconst line = 'x'.repeat(1000)\nfor (;;) \(write)(line)\n", runner: runner)
        #expect(result.outcome == .outputLimit)
        #expect(result.duration < 5000, "took \(result.duration) ms")
        if stream == "stdout" {
            #expect(result.stdoutTruncated && !result.stderrTruncated)
            #expect(result.stdout.utf8.count == 64 * 1024)
        } else {
            #expect(result.stderrTruncated && !result.stdoutTruncated)
            #expect(result.stderr.utf8.count == 64 * 1024)
        }
    }

    @Test("A script that exits 0 right after passing a limit is still classified by the limit")
    func exitZeroAfterLimit() async throws {
        let runner = try await Fixture.runner { $0.stdoutMaxBytes = 1024 }
        let result = try await Fixture.run(
            "// @skill sneaky\nDeno.stdout.writeSync(new TextEncoder().encode('y'.repeat(4096)))\nDeno.exit(0)\n", runner: runner)
        #expect(result.outcome == .outputLimit)
        #expect(result.stdoutTruncated)
        #expect(!result.success)
    }

    @Test("Exit codes are observed, not trusted: Deno.exit(256) exits 0, Deno.exit(3) is exit_nonzero")
    func exitCodes() async throws {
        let wrapped = try await Fixture.run("// @skill wrap\nDeno.exit(256)\n")
        #expect(wrapped.exitCode == 0 && wrapped.outcome == .ok)
        let three = try await Fixture.run("// @skill three\nconsole.error('bad'); Deno.exit(3)\n")
        #expect(three.exitCode == 3 && three.outcome == .exitNonzero && three.status == "failed")
        let thrown = try await Fixture.run("// @skill throws\nthrow new Error('boom')\n")
        #expect(thrown.outcome == .exitNonzero && thrown.stderr.contains("boom"))
    }

    @Test("A heap bomb ends as heap_oom")
    func heapBomb() async throws {
        let runner = try await Fixture.runner { $0.heapMiB = 64 }
        let result = try await Fixture.run(
            "// @skill heap\nconst a = []\nfor (;;) a.push(new Array(1e6).fill(1.5))\n", runner: runner)
        #expect(result.outcome == .heapOOM, "\(result.signal ?? "") \(result.stderr.suffix(300))")
        #expect(result.signal == "SIGTRAP")
    }

    @Test("Printing V8's out-of-memory text does not fake a heap_oom")
    func fakeHeapMessage() async throws {
        let result = try await Fixture.run("// @skill liar\nconsole.error('Fatal JavaScript out of memory: Reached heap limit'); Deno.exit(133)\n")
        #expect(result.outcome == .exitNonzero)
    }

    @Test("Per-job directories are gone afterwards, and localStorage does not survive into the next job")
    func freshDirectories() async throws {
        let root = Fixture.workRoot()
        let runner = try await Fixture.runner(workRoot: root)
        let source = "// @skill store\nconsole.log(localStorage.getItem('k')); localStorage.setItem('k', 'left behind')\n"
        let first = try await Fixture.run(source, runner: runner)
        let second = try await Fixture.run(source, runner: runner)
        #expect(first.stdout == "null\n" && second.stdout == "null\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty)
    }

    @Test("Relative imports find nothing: the working directory is empty and the script has no file")
    func relativeImport() async throws {
        let result = try await Fixture.run("// @skill imp\nimport x from './limits.json' with { type: 'json' }\nconsole.log(x)\n")
        #expect(result.outcome == .exitNonzero)
        #expect(result.stdout.isEmpty)
    }

    @Test("When the jail cannot start Deno the outcome is sandbox_error with the jail's reason")
    func jailFailure() async throws {
        let healthy = try await Fixture.runner()
        var configuration = healthy.configuration
        configuration.denoPath = "/nonexistent/deno"
        let broken = try SkillRunner(configuration: configuration, host: healthy.host)
        let result = try await Fixture.run("// @skill x\nconsole.log(1)\n", runner: broken)
        #expect(result.outcome == .sandboxError)
        #expect(result.exitCode == 253)
        #expect(result.error?.contains("jail setup failed at mount: mount /nonexistent/deno") == true, "\(result.error ?? "nil")")
    }

    @Test("A work root too long for the egress socket's path is refused at start, naming it")
    func longWorkRoot() async throws {
        let healthy = try await Fixture.runner()
        var configuration = healthy.configuration
        configuration.workRoot = "/tmp/" + String(repeating: "w", count: 80)
        #expect { try SkillRunner(configuration: configuration, host: healthy.host) } throws: {
            "\($0)".contains("too long for the egress proxy's socket path")
        }
    }
}

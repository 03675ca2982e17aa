import Foundation
import OAuth3Wire
import TestSupport
import Testing

/// Runs the real `oauth3-enclave` binary.
private func enclave(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, out: String, err: String) {
    let run = try await Fixture.execute(
        Fixture.enclave, arguments + ["--deno", Fixture.deno, "--policies", Fixture.policies, "--work-dir", Fixture.workRoot()],
        environment: ["PATH": "/usr/bin:/bin"].merging(environment) { $1 })
    return (run.status, run.out, run.err)
}

private let exampleSkill = Fixture.repository.appendingPathComponent("examples/hello.ts").path

@Suite("oauth3-enclave run")
struct RunCommandTests {
    @Test("The bundled example runs: JSON result on stdout, exit 0, secret taken from the environment and redacted")
    func example() async throws {
        let secret = "env-secret-\(UUID().uuidString)"
        let run = try await enclave(["run", exampleSkill, "--secret", "GREETING_TOKEN", "--secret", "EXTRA=1"], environment: ["GREETING_TOKEN": secret])
        #expect(run.status == 0, "\(run.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any])
        #expect(json["outcome"] as? String == "ok")
        #expect(json["success"] as? Bool == true)
        for key in ["exitCode", "signal", "stdout", "stderr", "stdout_truncated", "stderr_truncated", "duration", "code_sha256", "granted", "deno_version", "policy_sha256"] {
            #expect(json.keys.contains(key), "missing \(key)")
        }
        #expect((json["stdout"] as? String)?.contains("[REDACTED:GREETING_TOKEN] (\(secret.count) characters)") == true)
        #expect((json["stdout"] as? String)?.contains("AWS_SECRET_ACCESS_KEY is undefined") == true, "\(run.out)")
        #expect(!run.out.contains(secret))
        #expect((json["warnings"] as? [String])?.first?.contains("EXTRA") == true)
    }

    @Test("--explain shows the exact command and masks secret values, running nothing")
    func explain() async throws {
        let run = try await enclave(["run", exampleSkill, "--secret", "GREETING_TOKEN=do-not-show-me", "--explain"])
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("GREETING_TOKEN=****"))
        #expect(!run.out.contains("do-not-show-me"))
        #expect(run.out.contains("--deny-net") && run.out.contains("--allow-env ") && run.out.contains(" -- "))
        #expect(!run.out.contains("Hello from Deno"))
        #expect(run.out.contains("egress:       none: loopback alone"))

        let networked = Fixture.workRoot() + "/net.ts"
        try "// @skill net\n// @network api.example.com\n".write(toFile: networked, atomically: true, encoding: .utf8)
        let proxied = try await enclave(["run", networked, "--explain"])
        #expect(proxied.out.contains("egress:       only through the job's proxy (bridge 127.0.0.1:3128 -> /run/oauth3/egress.sock)"))
        #expect(proxied.out.contains("HTTPS_PROXY=http://127.0.0.1:3128") && proxied.out.contains("--egress-bridge 3128 /run/oauth3/egress.sock"))
    }

    @Test("A failing skill exits 1 with its result; a bad header exits 2 listing every problem; a missing secret is named")
    func failures() async throws {
        let directory = Fixture.workRoot()
        let failing = directory + "/fail.ts"
        try "// @skill fail\nDeno.exit(4)\n".write(toFile: failing, atomically: true, encoding: .utf8)
        let failed = try await enclave(["run", failing])
        #expect(failed.status == 1)
        #expect(failed.out.contains("\"outcome\" : \"exit_nonzero\""))

        let bad = directory + "/bad.ts"
        try "// @skill Bad\n// @network a.com,b.com\n// @netwrok x.example.com\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try await enclave(["run", bad])
        #expect(refused.status == 2)
        #expect(refused.err.contains("line 1 @skill") && refused.err.contains("line 2 @network") && refused.err.contains("did you mean @network?"))

        // A declared secret without a value: it could not run, which docs/skills.md says is exit 2.
        let missing = try await enclave(["run", exampleSkill])
        #expect(missing.status == 2, "\(missing.err)")
        #expect(missing.err.contains("declares @secrets with no value given: GREETING_TOKEN"))
    }
}

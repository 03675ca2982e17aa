import Foundation
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

/// The approval page in a real browser: Debian's Chromium, headless, driven through chromedriver by
/// Selenium (`Tests/browser/approve.py`; installed by `scripts/setup.sh`).
@Suite("The approval page in headless Chromium", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct BrowserApprovalTests {
    struct Report: Decodable {
        struct Before: Decodable {
            let title: String; let heading: String; let code: String?; let buttons: [String]; let secret_fields: [String]; let required_fields: [String]
            let styled: String; let console: [String]
        }
        struct After: Decodable { let heading: String; let text: String }
        let before: Before
        let after: After
    }

    func browse(_ url: String, _ decision: String, secrets: [String: String] = [:]) async throws -> Report {
        let script = Fixture.repository.appendingPathComponent("Tests/browser/approve.py").path
        let run = try await Fixture.execute(
            "/usr/bin/python3", [script, url, decision] + secrets.map { "\($0.key)=\($0.value)" },
            environment: ["PATH": "/usr/bin:/bin", "HOME": Fixture.workRoot(), "PYTHONPATH": Fixture.repository.appendingPathComponent(".tools/python").path])
        #expect(run.status == 0, "\(run.err.suffix(2000))")
        return try JSONDecoder().decode(Report.self, from: Data(run.out.utf8))
    }

    @Test("Rendered and submitted in a real browser: approve once with a secret, and the job completes")
    func approveInBrowser() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let job = try await agent.execute(.init(skillCode: withSecret))
        let report = try await browse(try #require(job.approvalUrl), "approve_once", secrets: ["API_TOKEN": "typed-in-browser"])
        #expect(report.before.title == "OAuth3 approval" && report.before.heading == "Approve a skill run")
        #expect(report.before.code == withSecret)
        #expect(report.before.buttons == ["approve_once", "trust_code", "deny"])
        #expect(report.before.secret_fields == ["secrets[API_TOKEN]"] && report.before.required_fields == ["secrets[API_TOKEN]"])
        #expect(report.before.styled == "960px", "the page's own style must pass its CSP")
        #expect(report.before.console.isEmpty, "no CSP violations or errors: \(report.before.console)")
        #expect(report.after.heading == "Decision recorded" && report.after.text.contains("approved"))
        let done = try await agent.poll(job.requestId, timeout: .seconds(60))
        #expect(done.status == "completed" && done.result?.claims.run.stdout == "token [REDACTED:API_TOKEN] 16\n")
    }

    @Test("make run's printed example, followed as printed, reaches completed when a newcomer approves in the browser")
    func makeRunExample() async throws {
        let script = try await MakeRunScript.start()
        let example = script.example
        #expect(example.hasSuffix(".build/debug/oauth3 execute --code examples/hello.ts"), "\(example)")
        let typed = "typed-by-the-newcomer"
        let pages = Pages()
        let run = try await shell(example, in: Fixture.repository.path) { url in
            let report = try await browse(url, "approve_once", secrets: ["GREETING_TOKEN": typed])
            await pages.add(report)
        }
        #expect(run.status == 0, "\(run.err)")
        let report = try #require(await pages.all.first)
        #expect(report.before.required_fields == ["secrets[GREETING_TOKEN]"], "the page asks for the example's one secret")
        let status = try JSONDecoder().decode(ExecutionStatus.self, from: Data(run.out.utf8))
        let stdout = status.result?.claims.run.stdout ?? ""
        #expect(status.status == "completed", "\(run.out)")
        #expect(stdout.contains("My token is [REDACTED:GREETING_TOKEN] (\(typed.count) characters)"), "\(stdout)")
        #expect(stdout.contains("AWS_SECRET_ACCESS_KEY is undefined") && !stdout.contains(typed), "\(stdout)")
    }

    /// The reports of the pages a test approved in.
    actor Pages {
        var all: [Report] = []
        func add(_ report: Report) { all.append(report) }
    }

    @Test("Deny in a real browser, with the missing secret's required field left empty")
    func denyInBrowser() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let job = try await agent.execute(.init(skillCode: withSecret))
        let report = try await browse(try #require(job.approvalUrl), "deny")
        #expect(report.before.required_fields == ["secrets[API_TOKEN]"])
        #expect(report.after.text.contains("denied"))
        #expect(try await agent.status(job.requestId).status == "denied")
    }
}

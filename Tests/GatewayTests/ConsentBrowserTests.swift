import Foundation
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

/// Consent in a real browser: Chromium, headless, with a WebDriver virtual authenticator standing for the
/// person's passkey (`Tests/browser/consent.py`), against a real daemon, then `oauth3-enclave verify`.
@Suite("Passkey consent in headless Chromium", .serialized, .timeLimit(.minutes(5)), .stopsDaemons)
struct ConsentBrowserTests {
    struct Reply: Decodable { let status: Int; let error: String? }

    @Test("Signup with a passkey; the agent cannot decide, replay or enrol; the person approves; sessions bind code; verify names the approver")
    func consentEndToEnd() async throws {
        let daemon = try await LiveDaemon.start()
        let port = try #require(daemon.url.port)
        let output = Fixture.workRoot() + "/consent-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let script = Fixture.repository.appendingPathComponent("Tests/browser/consent.py").path
        let run = try await Fixture.execute(
            "/usr/bin/python3", [script, "http://localhost:\(port)", output],
            environment: ["PATH": "/usr/bin:/bin", "HOME": Fixture.workRoot(), "PYTHONPATH": Fixture.repository.appendingPathComponent(".tools/python").path])
        #expect(run.status == 0, "\(run.err.suffix(3000))")
        let report = try JSONDecoder().decode(JSONValue.self, from: Data(run.out.utf8))
        func text(_ path: String...) -> String? { path.reduce(Optional(report)) { $0?[$1] }?.stringValue }
        func number(_ path: String...) -> Double? {
            if case .number(let value)? = path.reduce(Optional(report), { $0?[$1] }) { return value }
            return nil
        }

        // Browser signup: a passkey enrolled, an agent key shown.
        #expect(text("signup_outcome")?.contains("Account created") == true)
        #expect(report["key_shown"] == .bool(true))
        let tenant = try #require(text("tenant_id"))
        guard case .array(let approvers)? = report["approvers"]?["approvers"] else { Issue.record("no approvers: \(report)"); return }
        #expect(approvers.count == 1 && approvers.first?["name"]?.stringValue == "Alice Approver" && approvers.first?["algorithm"] == .number(-7))

        // The agent holds the token (and its key) but cannot decide, trust, approve a scope, enrol or untrust.
        #expect(text("submit", "job_status") == "pending")
        for name in ["approve", "trust", "deny", "scope"] {
            #expect(number("agent_refusals", name, "status") == 403, "\(name)")
            #expect(text("agent_refusals", name, "error")?.contains("deciding needs an approver's passkey") == true, "\(name): \(report["agent_refusals"]?[name] ?? .null)")
        }
        #expect(number("agent_refusals", "enrol", "status") == 403 && text("agent_refusals", "enrol", "error")?.contains("existing approver's passkey") == true)
        #expect(number("agent_refusals", "untrust", "status") == 403 && text("agent_refusals", "untrust", "error")?.contains("needs an approver's passkey") == true)
        #expect(number("agent_refusals", "put_secret", "status") == 403 && text("agent_refusals", "put_secret", "error")?.contains("secret values are supplied on the approval page") == true)
        #expect(number("agent_refusals", "replace_key", "status") == 403 && text("agent_refusals", "replace_key", "error")?.contains("needs an approver's passkey") == true)
        #expect(text("still_pending") == "pending")

        // The page tells the truth: account, args, enclave identity, passkey buttons.
        let page = try #require(text("page_text"))
        for fact in ["Alice Approver", tenant, "REPO = my-org/demo", "app id", "compose hash", "DEVELOPMENT guest agent", "the link alone cannot decide"] {
            #expect(page.contains(fact), "\(fact) not on the page")
        }
        #expect(report["page_buttons"] == .array([.string("Approve once with passkey"), .string("Trust this code with passkey"), .string("Deny with passkey")]))

        // Replays: another request, another level, other args.
        #expect(report["replay_other_request"]?[0] == .number(403) && report["replay_other_request"]?[1]?["error"]?.stringValue?.contains("another request") == true)
        #expect(report["replay_as_trust_code"]?[0] == .number(403) && report["replay_as_trust_code"]?[1]?["error"]?.stringValue?.contains("different decision") == true)
        #expect(report["replay_other_args"]?[0] == .number(403))

        // The person's approval, recorded in the attested result.
        #expect(text("approve_outcome")?.contains("Decision recorded: approved") == true)
        let result = try #require(report["result"]?["result"])
        #expect(report["result"]?["status"]?.stringValue == "completed" && result["stdout"]?.stringValue == "repo is my-org/demo\n")
        #expect(result["approval"]?["method"]?.stringValue == "passkey" && result["approved_by"]?.stringValue == "human")
        #expect(result["approval"]?["passkey"]?["approver_name"]?.stringValue == "Alice Approver")
        #expect(result["approval"]?["passkey"]?["statement"]?["args"]?["REPO"]?.stringValue == "my-org/demo")
        #expect(result["args"]?["REPO"]?.stringValue == "my-org/demo")
        for field in ["created_at", "approved_at", "started_at", "finished_at"] { #expect(result[field] != nil, "\(field)") }

        let verified = try await Fixture.execute(Fixture.enclave, ["verify", "--allow-dev-root", "--expect-os", Fixture.repository.appendingPathComponent("dstack/os/development.json").path, output + "/passkey-status.json"])
        let said = verified.out + verified.err
        #expect(verified.status == 0, "\(said)")
        for line in ["✔ consent_digest", "✔ consent_signature", "✔ consent_subject", "✔ consent_code", "✔ consent_args", "consent: Alice Approver", "approved once"] {
            #expect(said.contains(line), "\(line) in \(said)")
        }

        // A scope approves the code shown with it, within the run count set on the page; other code waits.
        #expect(text("scope_outcome")?.contains("completed") == true)
        #expect(text("session_runs", "shown", "status") == "approved" && text("session_runs", "shown_again", "status") == "approved")
        #expect(text("session_runs", "other", "status") == "pending")
        #expect(report["session_runs"]?["other"]?["policy_violations"]?[0]?.stringValue?.contains("was not approved for session") == true)
        #expect(text("session_runs", "past_max_runs", "status") == "pending")
        #expect(report["session_runs"]?["past_max_runs"]?["policy_violations"]?[0]?.stringValue?.contains("used up: 2 runs") == true)
        #expect(report["session_shown_result"]?["result"]?["approval"]?["method"]?.stringValue == "session")
        #expect(report["session_shown_result"]?["result"]?["approval"]?["any_code"] == .bool(false))
        #expect(report["session"]?["runs"] == .number(2))

        // "Any code", with its warning, lets other code run, and the result records that choice.
        #expect(text("any_code_warning")?.contains("code nobody has seen runs") == true)
        #expect(text("any_code_run", "status") == "approved")
        let wide = try #require(report["any_code_result"]?["result"])
        #expect(wide["approval"]?["any_code"] == .bool(true) && wide["approval"]?["passkey"]?["statement"]?["any_code"] == .bool(true))
        let sessionVerified = try await Fixture.execute(Fixture.enclave, ["verify", "--allow-dev-root", "--expect-os", Fixture.repository.appendingPathComponent("dstack/os/development.json").path, output + "/session-status.json"])
        #expect(sessionVerified.status == 0 && (sessionVerified.out).contains("ANY code"), "\(sessionVerified.out)\(sessionVerified.err)")
        // The owner replaced the agent key with the passkey: the new key works, the old one no longer does.
        #expect(number("replaced_key", "new_works") == 200 && number("replaced_key", "old_works") == 401, "\(report["replaced_key"] ?? .null)")
        // An SDK-made account claimed at /claim (the page says it is trust on first use); its token no longer decides.
        #expect(text("claim_page")?.contains("trust on first use") == true)
        #expect(text("claim_outcome")?.contains("Passkey enrolled: approver Bob Claimer") == true, "\(report["claim_outcome"] ?? .null)")
        #expect(report["claimed_token_decision"]?[0] == .number(403))
        #expect(report["claimed_approvers"]?["approvers"]?[0]?["name"]?.stringValue == "Bob Claimer")
        // Revoking an approver: the agent key alone cannot; the approver's passkey can.
        #expect(report["agent_revoke"]?[0] == .number(403) && report["owner_revoke"] == .number(200))
        #expect(report["after_revoke"]?["approvers"] == .array([]))
        // Chromium warns that RS256 is not offered (only ES256 and Ed25519 are accepted, on purpose); nothing else.
        guard case .array(let console)? = report["console"] else { Issue.record("no console report"); return }
        let problems = console.filter { $0["level"]?.stringValue != "WARNING" || !($0["message"]?.stringValue?.contains("pubKeyCredParams") ?? false) }
        #expect(problems.isEmpty, "no CSP violations or script errors: \(problems)")
    }
}

extension JSONValue {
    /// The element at `index` of an array (the script reports `[status, body]` pairs).
    subscript(index: Int) -> JSONValue? {
        if case .array(let items) = self, items.indices.contains(index) { return items[index] }
        return nil
    }
}

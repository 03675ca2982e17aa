import Foundation
import Gateway
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

@Suite("The approval page", .serialized, .timeLimit(.minutes(2)), .stopsDaemons)
struct ApprovalPageTests {
    @Test("A browser gets a self-contained page with strict headers, the escaped code, and the grants")
    func page() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let sneaky = """
            // @skill sneaky
            // @description <img src=x onerror=alert(1)> & friends
            // @secrets GH_TOKEN
            // @network api.github.com
            console.log("</pre><script>alert('x')</script>")
            """
        let job = try await agent.execute(.init(skillCode: sneaky))
        let page = try await daemon.raw("GET", "/approve/\(job.requestId)?token=\(token(of: job.approvalUrl))", headers: ["Accept": "text/html"])
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        let csp = try #require(page.headers["content-security-policy"])
        #expect(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'") && !csp.contains("unsafe-inline"))
        #expect(page.headers["x-frame-options"] == "DENY" && page.headers["referrer-policy"] == "no-referrer" && page.headers["cache-control"] == "no-store")
        #expect(!page.body.contains("<script") && !page.body.contains("<img"))
        #expect(page.body.contains("&lt;/pre&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(page.body.contains("&lt;img src=x onerror=alert(1)&gt; &amp; friends"))
        #expect(page.body.contains(job.codeSha256 ?? "-") && page.body.contains("api.github.com:443") && page.body.contains("GH_TOKEN"))
        #expect(page.body.contains("name=\"secrets[GH_TOKEN]\"") && page.body.contains("missing"))
        #expect(!page.body.contains("http://") && !page.body.contains("https://"), "no external assets or links")
        for decision in ["approve_once", "trust_code", "deny"] { #expect(page.body.contains("value=\"\(decision)\"")) }
    }

    @Test("The page's form approves with a secret, answering an HTML page")
    func formSubmission() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let job = try await agent.execute(.init(skillCode: withSecret))
        let form = "token=\(token(of: job.approvalUrl))&decision=approve_once&secrets%5BAPI_TOKEN%5D=form+value%26more"
        let reply = try await daemon.raw("POST", "/approve/\(job.requestId)", body: Data(form.utf8), headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"])
        #expect(reply.status == 200 && reply.headers["content-type"] == "text/html; charset=utf-8")
        #expect(reply.body.contains("Decision recorded") && reply.body.contains("approved"))
        let done = try await agent.poll(job.requestId, timeout: .seconds(60))
        #expect(done.result?.claims.run.stdout == "token [REDACTED:API_TOKEN] 15\n")  // "form value&more"
    }

    @Test("A wrong token on the page shows an error page, not the job")
    func wrongToken() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let job = try await agent.execute(.init(skillCode: hello))
        let page = try await daemon.raw("GET", "/approve/\(job.requestId)?token=\(String(repeating: "a", count: 64))", headers: ["Accept": "text/html"])
        #expect(page.status == 403 && page.body.contains("Cannot show this approval") && !page.body.contains("hello from the enclave"))
    }
}

import Crypto
import Foundation
import OAuth3Wire

/// The approval page: one self-contained HTML document, no external assets. It shows exactly what the
/// approver allows (the account asking, the code, its hash, hosts, secrets, arguments, the enclave) and
/// sends the decision back: as a form for an account without approvers (the token decides), through
/// ``PasskeyScript`` for one with approvers (a passkey signs the decision; the token only reads). Every
/// value is escaped; the strict CSP allows only its own inline style and that script, by hash.
enum ApprovalPage {
    static let style = """
        body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}
        h1{font-size:1.4rem}dt{font-weight:600}dd{margin:0 0 .6rem 0}code,pre{font:13px/1.4 ui-monospace,monospace}
        pre{background:#f4f4f4;padding:1rem;overflow:auto;max-height:32rem;border:1px solid #ddd}
        .missing{color:#a00;font-weight:600}.note{color:#555;font-size:13px}
        button{font-size:15px;padding:.5rem 1rem;margin-right:.5rem}label{display:block;margin:.3rem 0}
        .deny{background:#fee}.status{padding:.4rem .8rem;background:#eef;display:inline-block}
        .error{padding:.4rem .8rem;background:#fdd;display:inline-block}.warning{color:#a00}.dev{color:#a00;font-weight:600}
        """

    /// The security headers of every HTML reply.
    static var headers: [(String, String)] {
        let styleHash = Data(SHA256.hash(data: Data(style.utf8))).base64EncodedString()
        return [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Security-Policy", "default-src 'none'; style-src 'sha256-\(styleHash)'; script-src \(PasskeyScript.hashSource); connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            // The token is in the URL: never send it on.
            ("Referrer-Policy", "no-referrer"),
            ("Cache-Control", "no-store"),
        ]
    }

    /// The page asking for a decision (or showing the one already made).
    static func render(_ request: ApprovalRequest, token: String) -> String {
        var body = "<h1>\(request.kind == "scope" ? "Approve a session scope" : "Approve a skill run")</h1>\n"
        body += "<p class=\"status\">Status: <b>\(escape(request.status))</b></p>\n<dl>\n"
        if let tenant = request.tenantId {
            body += "<dt>Account asking</dt><dd>\(escape(request.accountName ?? "(no name)")) <code>\(escape(tenant))</code></dd>\n"
        }
        if let enclave = request.enclave {
            body += "<dt>Enclave</dt><dd>app id <code>\(escape(enclave.appId))</code>, compose hash <code>\(escape(enclave.composeHash))</code>"
                + (enclave.development ? " <span class=\"dev\">DEVELOPMENT guest agent: its quotes prove nothing about hardware</span>" : "") + "</dd>\n"
        }
        if let skill = request.skillId { body += "<dt>Skill</dt><dd><code>\(escape(skill))</code></dd>\n" }
        if let description = request.description { body += "<dt>Description</dt><dd>\(escape(description))</dd>\n" }
        if let session = request.sessionId { body += "<dt>Session</dt><dd><code>\(escape(session))</code></dd>\n" }
        body += "<dt>Hosts it may reach</dt><dd>" + list(request.networks, empty: "none: no network at all") + "</dd>\n"
        body += "<dt>Secrets it reads</dt><dd>" + secretList(request) + "</dd>\n"
        if let constraints = request.constraints {
            body += "<dt>Constraints</dt><dd>" + list(constraints, empty: "none")
                + "<div class=\"note\">Shown as the agent wrote them. The enclave does not check them: only the hosts and secrets above are enforced.</div></dd>\n"
        }
        if let args = request.args {
            body += "<dt>Arguments</dt><dd>" + (args.isEmpty ? "none" : "<ul>" + args.sorted { $0.key < $1.key }.map {
                "<li><code>\(escape($0.key))</code> = <code>\(escape($0.value))</code></li>"
            }.joined() + "</ul>") + "</dd>\n"
        }
        if let timeout = request.timeoutSeconds { body += "<dt>Time limit</dt><dd>\(timeout) s</dd>\n" }
        if let hash = request.codeSha256 { body += "<dt>Code SHA-256</dt><dd><code>\(escape(hash))</code></dd>\n" }
        body += "</dl>\n"
        if let code = request.code { body += "<h2>Code</h2>\n<pre><code>\(escape(code))</code></pre>\n" }

        if ["pending", "pending_scope", "awaiting_secrets"].contains(request.status) {
            body += request.passkeyRequired == true ? passkeyControls(request, token: token) : tokenForm(request, token: token)
        }
        body += "<p id=\"outcome\"></p>\n"
        return document(title: "OAuth3 approval", body: body, script: request.passkeyRequired == true)
    }

    /// The form of an account without approvers: the token decides.
    private static func tokenForm(_ request: ApprovalRequest, token: String) -> String {
        var body = "<form method=\"post\" action=\"/approve/\(escape(request.id))\">\n"
        body += "<input type=\"hidden\" name=\"token\" value=\"\(escape(token))\">\n"
        body += secretFields(request, attribute: { "name=\"secrets[\(escape($0))]\"" }, offerHosts: true) + scopeOptions(request)
        body += "<p><button type=\"submit\" name=\"decision\" value=\"approve_once\">Approve once</button>"
        if request.kind == "execute" {
            body += "<button type=\"submit\" name=\"decision\" value=\"trust_code\">Trust this code</button>"
        }
        // A missing value is required to approve (the job could not start without it, and would stop at
        // awaiting_secrets); Deny skips the check (formnovalidate).
        body += "<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"deny\" formnovalidate>Deny</button></p>\n"
        if request.kind == "execute" {
            body += "<p class=\"note\">“Trust this code” lets this exact code (this SHA-256) run again for the same account without asking.</p>\n"
        }
        body += "<p class=\"note\">This account has no approver passkey, so whoever holds this link decides, and results say so (<code>method: token</code>).</p>\n"
        return body + "</form>\n"
    }

    /// The controls of an account with approvers: each button asks for a challenge over exactly that
    /// decision and has a passkey sign it.
    private static func passkeyControls(_ request: ApprovalRequest, token: String) -> String {
        var body = "<div id=\"passkey-decision\" data-request=\"\(escape(request.id))\" data-token=\"\(escape(token))\">\n"
        body += secretFields(request, attribute: { "data-secret=\"\(escape($0))\"" }) + scopeOptions(request)
        body += "<p><button type=\"button\" data-action=\"approve\" data-level=\"once\">Approve once with passkey</button>"
        if request.kind == "execute" {
            body += "<button type=\"button\" data-action=\"approve\" data-level=\"trust_code\">Trust this code with passkey</button>"
        }
        body += "<button type=\"button\" data-action=\"deny\" data-level=\"once\" class=\"deny\">Deny with passkey</button></p>\n"
        body += "<p class=\"note\">Your passkey signs exactly what this page shows; the link alone cannot decide.</p>\n"
        return body + "</div>\n"
    }

    /// - Parameter offerHosts: the form's flow, which can bind a supplied secret to hosts (`secret_hosts[NAME]`).
    private static func secretFields(_ request: ApprovalRequest, attribute: (String) -> String, offerHosts: Bool = false) -> String {
        request.missingSecrets.map { name in
            "<label>Value for <code>\(escape(name))</code> (stored sealed, never shown again): "
                + "<input type=\"password\" \(attribute(name)) autocomplete=\"off\" required></label>\n"
                + (!offerHosts ? "" : "<label>Only to hosts (optional; e.g. <code>api.github.com</code>): "
                + "<input type=\"text\" name=\"secret_hosts[\(escape(name))]\" autocomplete=\"off\"></label>\n"
                + "<div class=\"note\">With hosts, the skill gets a placeholder, never the value: the enclave writes the value into request headers to those hosts only.</div>\n")
        }.joined()
    }

    /// A scope's "any code" choice, with its warning, and the expiry and run count (of a session, or of trust).
    private static func scopeOptions(_ request: ApprovalRequest) -> String {
        var body = ""
        if request.kind == "scope" {
            body += "<label><input type=\"checkbox\" name=\"any_code\" value=\"true\"> Any code within these hosts and secrets</label>\n"
                + "<p class=\"warning\">Warning: with this ticked, code nobody has seen runs with these secrets on these hosts. Without it, only the code shown here"
                + " (and code you trust later) runs without asking.</p>\n"
        }
        body += "<label>Expires after (minutes, optional): <input type=\"number\" min=\"1\" name=\"expires_in_minutes\"></label>\n"
        body += "<label>At most this many runs (optional): <input type=\"number\" min=\"1\" name=\"max_runs\"></label>\n"
        return body
    }

    /// The page after a decision.
    static func outcome(_ outcome: ApprovalOutcome) -> String {
        var body = "<h1>Decision recorded</h1>\n<p class=\"status\">\(escape(outcome.id)): <b>\(escape(outcome.status))</b></p>\n"
        if let message = outcome.message { body += "<p>\(escape(message))</p>\n" }
        if let session = outcome.sessionId { body += "<p>Session <code>\(escape(session))</code> is active.</p>\n" }
        return document(title: "OAuth3 approval", body: body)
    }

    static func error(_ message: String) -> String {
        document(title: "OAuth3 approval", body: "<h1>Cannot show this approval</h1>\n<p>\(escape(message))</p>\n")
    }

    /// A whole page; `script` adds ``PasskeyScript`` (pages where a passkey acts; the others run none).
    static func document(title: String, body: String, script: Bool = false) -> String {
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
            + "<title>\(escape(title))</title><style>\(style)</style></head><body>\n\(body)"
            + (script ? "<script>\(PasskeyScript.source)</script>" : "") + "</body></html>\n"
    }

    private static func list(_ items: [String], empty: String) -> String {
        items.isEmpty ? escape(empty) : "<ul>" + items.map { "<li><code>\(escape($0))</code></li>" }.joined() + "</ul>"
    }

    private static func secretList(_ request: ApprovalRequest) -> String {
        guard !request.secrets.isEmpty else { return "none" }
        return "<ul>" + request.secrets.map { name in
            "<li><code>\(escape(name))</code>" + (request.missingSecrets.contains(name) ? " <span class=\"missing\">missing: supply it below</span>" : "")
                + (request.secretBindings?[name].map { " bound to " + $0.hosts.map { "<code>\(escape($0))</code>" }.joined(separator: ", ") + " (the skill sees a placeholder)" } ?? "")
                + "</li>"
        }.joined() + "</ul>"
    }

    /// HTML-escapes text for element content and quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

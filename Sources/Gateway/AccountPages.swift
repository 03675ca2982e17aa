/// The pages where people become approvers: `GET /signup` (a new account whose first approver is the
/// passkey made there) and `GET /claim` (enrol a passkey for an account made by the SDK, with its agent
/// key; or, for an account with approvers, another passkey that an existing approver allows).
/// Same document, headers and script as the approval page (``ApprovalPage``, ``PasskeyScript``).
enum AccountPages {
    static func signup() -> String {
        let body = """
            <h1>Create an account</h1>
            <p>Your passkey becomes this account's approver: only it can approve what agents ask to run. You then get an agent API key to give your agent; that key can submit and read results, never approve.</p>
            <form id="signup"><label>Your name: <input name="name" required maxlength="100" autocomplete="name"></label>
            <p><button type="submit">Create account with a passkey</button></p></form>
            <div id="account" hidden><h2>Your agent's API key</h2><p>Account <code id="tenant-id"></code></p>
            <p>Give this key to your agent (shown once): <code id="api-key"></code></p></div>
            <p id="outcome"></p>

            """
        return ApprovalPage.document(title: "OAuth3 signup", body: body, script: true)
    }

    static func claim() -> String {
        let body = """
            <h1>Enrol an approver passkey</h1>
            <p>For an account created by an agent (the SDK's signup), the first passkey enrolled here with the account's API key becomes its approver: whoever does this first wins (trust on first use), so do it before the key is given to an agent. Creating the account at <a href="/signup">/signup</a> instead has no such race.</p>
            <p>For an account that has approvers, an existing approver's passkey must allow the new one.</p>
            <form id="claim"><label>Agent API key: <input name="api_key" type="password" required autocomplete="off"></label>
            <label>Approver name: <input name="name" required maxlength="100"></label>
            <p><button type="submit">Enrol a passkey</button></p></form>
            <p id="outcome"></p>

            """
        return ApprovalPage.document(title: "OAuth3 approver enrolment", body: body, script: true)
    }
}

import ArgumentParser
import Foundation
import OAuth3Client
import OAuth3Wire

struct ScopeAndExecute: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scope-and-execute", abstract: "Ask for a scope, wait for its approval, then run the skill in that session.")
    @Option(help: "Scope JSON: {description, constraints[], secrets[], networks[]}.") var scope: String
    @Option(help: "The skill's TypeScript file.") var code: String
    @Option(help: "Seconds to wait for each approval and result.") var timeout = 300
    @Option(help: "Skill id (default: the file name).") var skillId: String?
    @OptionGroup var connection: Connection

    func run() async throws {
        let client = try await connection.client()
        let skillCode = try Output.readFile(code, what: "code")
        guard var request = try? StrictJSON.decode(ScopeRequest.self, from: Array(try Output.readFile(scope, what: "scope").utf8)) else {
            throw ValidationError("\(scope) is not a scope: expected {\"description\", \"constraints\", \"secrets\", \"networks\"}")
        }
        request.skillCode = skillCode
        let asked = try await client.scope(request)
        if let url = asked.approvalUrl { Output.note("👉 Approve scope: \(url)") }
        Output.note("⏳ Polling scope \(asked.requestId)...")
        let approved = asked.isFinal ? asked : try await client.poll(asked.requestId, timeout: .seconds(timeout))
        guard approved.status == "completed" else { await Output.finish(approved) }
        Output.note("✅ Scope approved, session: \(asked.sessionId ?? "?")")
        try await runSkill(client, ExecuteRequest(skillId: Output.skillId(skillId, code: code), skillCode: skillCode, sessionId: asked.sessionId), timeout: timeout, approvalLabel: "👉 Approve execution")
    }
}

struct Execute: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a skill (a human approves it unless it fits a session or is trusted).")
    @Option(help: "The skill's TypeScript file.") var code: String
    @Option(help: "Session to run in.") var session: String?
    @Option(help: "Seconds to wait for approval and result.") var timeout = 300
    @Option(help: "Skill id (default: the file name).") var skillId: String?
    @OptionGroup var connection: Connection

    func run() async throws {
        let client = try await connection.client()
        let request = ExecuteRequest(skillId: Output.skillId(skillId, code: code), skillCode: try Output.readFile(code, what: "code"), sessionId: session)
        try await runSkill(client, request, timeout: timeout, approvalLabel: "👉 Approve")
    }
}

/// Submits, shows the approval link if a human must act, and waits for the final status.
func runSkill(_ client: OAuth3Client, _ request: ExecuteRequest, timeout: Int, approvalLabel: String) async throws -> Never {
    let submitted = try await client.execute(request)
    if let url = submitted.approvalUrl { Output.note("\(approvalLabel): \(url)") }
    if submitted.isFinal || submitted.status == "awaiting_secrets" { await Output.finish(submitted) }
    Output.note("⏳ Polling execution \(submitted.requestId)...")
    await Output.finish(try await client.poll(submitted.requestId, timeout: .seconds(timeout)))
}

struct Poll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Wait for a request's final status.")
    @Argument var requestId: String
    @Option(help: "Seconds to wait.") var timeout = 300
    @OptionGroup var connection: Connection
    func run() async throws {
        await Output.finish(try await connection.client().poll(requestId, timeout: .seconds(timeout)))
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a request's status once (exit 0 for any status it could read).")
    @Argument var requestId: String
    @OptionGroup var connection: Connection
    func run() async throws {
        Output.printJSON(try await connection.client().status(requestId))
    }
}

struct Signup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create an account and save its key to ~/.oauth3/key (0600).")
    @Option(help: "A name for the account.") var name = "agent"
    @OptionGroup var connection: Connection
    func run() async throws {
        let account = try await OAuth3Client(baseURL: connection.baseURL, apiKey: nil).signup(name: name)
        try KeyFile.save(account.apiKey)
        Output.note("🔑 Key saved to \(KeyFile.url.path)")
        print("{\"tenant_id\":\"\(account.tenantId)\"}")
    }
}

struct Secrets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage the account's secrets (values are never shown).", subcommands: [Set.self, List.self, Delete.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Store a secret; the value is read from stdin or an environment variable, never from the command line.")
        @Argument var name: String
        @Option(help: "Read the value from this environment variable instead of stdin.") var fromEnv: String?
        @Flag(help: "Seal the value to the enclave (HPKE) after checking its attestation, so a relay never sees it.") var seal = false
        @Option(name: .customLong("host"), help: "Bind the secret to this host (repeatable; @network's form, e.g. api.github.com): jobs get a placeholder, and the enclave's egress proxy writes the value into request headers to these hosts only.")
        var hosts: [String] = []
        @OptionGroup var expectation: ExpectationOptions
        @OptionGroup var connection: Connection
        func run() async throws {
            let value: String
            if let variable = fromEnv {
                guard let found = ProcessInfo.processInfo.environment[variable] else { throw ValidationError("environment variable \(variable) is not set") }
                value = found
            } else {
                value = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .newlines)
            }
            guard !value.isEmpty else { throw ValidationError("empty secret value: pipe it on stdin or use --from-env") }
            if seal {
                // Everything the seal requires is checked before the value is encrypted.
                expectation.warnings()
                let (wanted, pinned) = try expectation.expectation(for: try connection.baseURL)
                if let pinned { Output.note("📌 sealing only to the pinned enclave: \(pinned.summary)") }
                try await connection.client().putSealedSecret(name, value: value, expecting: wanted, hosts: hosts.isEmpty ? nil : hosts)
                Output.note("🔒 \(name) sealed to the attested enclave and stored" + bound)
            } else {
                try await connection.client().putSecret(name, value: value, hosts: hosts.isEmpty ? nil : hosts)
                Output.note("🔒 \(name) stored sealed" + bound)
            }
        }

        private var bound: String {
            hosts.isEmpty ? "" : ", bound to \(hosts.joined(separator: ", ")) (jobs see a placeholder)"
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List secret names and dates.")
        @OptionGroup var connection: Connection
        func run() async throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(try await connection.client().secrets()), as: UTF8.self))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a secret.")
        @Argument var name: String
        @OptionGroup var connection: Connection
        func run() async throws {
            try await connection.client().deleteSecret(name)
            Output.note("🗑 \(name) deleted")
        }
    }
}

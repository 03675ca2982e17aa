import Foundation
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

/// `openapi.yaml` against the daemon it describes: the daemon serves exactly the committed file, every route it
/// registers is described, real replies of a real flow (the OAuth3Wire types as the daemon encodes them) match the
/// spec's schemas, and schemathesis, with the daemon's auth, finds nothing against a live daemon, while it does
/// find a deliberately wrong spec. docs/api.md says why the spec is checked this way rather than generated.
@Suite("The OpenAPI description matches the daemon", .serialized, .timeLimit(.minutes(6)), .stopsDaemons)
struct OpenAPITests {
    static let spec = Fixture.repository.appendingPathComponent("openapi.yaml").path
    /// The virtual environment scripts/setup.sh makes (schemathesis, and with it PyYAML and jsonschema_rs).
    static let python = Fixture.repository.appendingPathComponent(".tools/schemathesis/bin/python").path
    static let schemathesis = Fixture.repository.appendingPathComponent(".tools/schemathesis/bin/st").path
    static let installed = FileManager.default.isExecutableFile(atPath: schemathesis)

    @Test("GET /openapi.json is openapi.yaml, as JSON", .enabled(if: installed, "schemathesis's environment (PyYAML) is missing: run scripts/setup.sh"))
    func servedDocumentIsTheCommittedFile() async throws {
        let daemon = try await LiveDaemon.start()
        let served = try await daemon.raw("GET", "/openapi.json")
        #expect(served.status == 200 && served.headers["content-type"]?.hasPrefix("application/json") == true)
        let converted = try await Fixture.execute(
            Self.python, ["-c", "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1], encoding='utf-8')), sys.stdout)", Self.spec])
        #expect(converted.status == 0, "\(converted.err)")
        let committed = try JSONDecoder().decode(JSONValue.self, from: Data(converted.out.utf8))
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(served.body.utf8))
        let same = document == committed  // not inside #expect, which would print both documents whole
        #expect(same, "the daemon serves another document than openapi.yaml: run make openapi")
        #expect(document["openapi"] == .string("3.1.0"))
    }

    @Test("Every route Routes.swift registers is in openapi.yaml, with its method")
    func everyRouteIsDescribed() async throws {
        let routes = try String(contentsOf: Fixture.repository.appendingPathComponent("Sources/Gateway/Routes.swift"), encoding: .utf8)
        let registered = routes.matches(of: /(?:router|api)\.(get|post|put|delete)\("([^"]+)"\)/).map { match in
            (method: String(match.output.1), path: String(match.output.2).replacing(/:([a-z0-9_]+)/) { "{\($0.output.1)}" })
        }
        #expect(registered.count >= 30, "the route pattern no longer matches Routes.swift: \(registered.count) routes found")
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(try await LiveDaemon.start().raw("GET", "/openapi.json").body.utf8))
        for route in registered {
            #expect(document["paths"]?[route.path]?[route.method] != nil, "openapi.yaml does not describe \(route.method.uppercased()) \(route.path)")
        }
    }

    @Test("Real replies of a real flow (every operation, success and error) match the spec's statuses, types and schemas", .enabled(if: installed, "schemathesis's environment (jsonschema_rs) is missing: run scripts/setup.sh"))
    func realRepliesMatchTheSpec() async throws {
        let daemon = try await LiveDaemon.start()
        let replies = Replies(daemon: daemon)
        try await Self.exerciseEveryOperation(replies)

        let file = Fixture.workRoot() + "/replies.json"
        try JSONEncoder().encode(await replies.recorded).write(to: URL(fileURLWithPath: file))
        let check = try await Fixture.execute(Self.python, [Fixture.repository.appendingPathComponent("scripts/openapi/check_replies.py").path, Self.spec, file])
        #expect(check.status == 0, "replies that do not match openapi.yaml:\n\(check.out)\(check.err)")

        // Every operation the spec describes was exercised.
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(try await daemon.raw("GET", "/openapi.json").body.utf8))
        guard case .object(let paths)? = document["paths"] else { Issue.record("no paths"); return }
        let exercised = Set(await replies.recorded.map { "\($0.method) \($0.path)" })
        for (path, item) in paths {
            guard case .object(let operations) = item else { continue }
            for method in operations.keys where ["get", "post", "put", "delete"].contains(method) {
                #expect(exercised.contains("\(method.uppercased()) \(path)"), "the flow does not exercise \(method.uppercased()) \(path)")
            }
        }
    }

    @Test("Every field of each reply type, all optionals set, is in its schema of the spec", .enabled(if: installed, "schemathesis's environment (jsonschema_rs) is missing: run scripts/setup.sh"))
    func everyWireFieldIsDescribed() async throws {
        let file = Fixture.workRoot() + "/values.json"
        try JSONEncoder().encode(try Self.fullWireValues().map { ["schema": $0.schema, "body": $0.body] }).write(to: URL(fileURLWithPath: file))
        let check = try await Fixture.execute(Self.python, [Fixture.repository.appendingPathComponent("scripts/openapi/check_replies.py").path, Self.spec, file])
        #expect(check.status == 0, "wire values that do not match openapi.yaml:\n\(check.out)\(check.err)")
        #expect(check.out.contains("\(try Self.fullWireValues().count) replies, 0 problems"), "\(check.out)")
    }

    /// One value of each OAuth3Wire reply type with every optional field set, encoded as the daemon encodes
    /// replies, with the name of its schema: a field the spec lacks shows even when no real flow sends it.
    static func fullWireValues() throws -> [(schema: String, body: String)] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func encoded(_ value: some Encodable) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        let hash = String(repeating: "ab", count: 32)

        var status = ExecutionStatus(requestId: "exec_0123456789abcdef", status: "completed")
        status.sessionId = "session_0123456789abcdef"
        status.approvalUrl = "http://localhost/approve/exec_0123456789abcdef?token=00"
        status.statusUrl = "http://localhost/execute/exec_0123456789abcdef/status"
        status.message = "done"
        status.policyViolations = ["secret X is not in the session's policy"]
        status.skillId = "hello"
        status.codeSha256 = hash
        (status.createdAt, status.approvedAt, status.executedAt, status.completedAt) = (1, 2, 3, 4)
        status.approvedBy = "human"
        status.missingSecrets = ["API_TOKEN"]
        status.error = "none"
        var claims = AuditorVerdictTests.claims()
        (claims.run.signal, claims.run.error, claims.run.memPeakBytes, claims.run.cpuUserMs, claims.run.cpuSysMs) = ("SIGKILL", "none", 1, 2, 3)
        claims.approvalDetail = "a note"
        status.result = AttestedResult(claims: claims, attestation: ResultAttestation(
            format: Domain.resultAttestationFormat, resultSHA256: hash, signature: "00", publicKey: "00", reportData: "00", quote: "00",
            eventLog: .array([]), guestAgent: "development:/x"))
        let dryRun = DryRunResult(
            wouldAutoApprove: false, reason: "policy_violation", sessionId: "session_0123456789abcdef", policyViolations: ["host x.com"],
            policyGaps: .init(newSecrets: ["X"], newNetworks: ["x.com:443"]), missingSecrets: ["X"])
        var request = ApprovalRequest(
            id: "exec_0123456789abcdef", status: "pending", kind: "execute", skillId: "hello", description: "says hello", code: "console.log(1)",
            codeSha256: hash, networks: ["api.github.com:443"], secrets: ["GH_TOKEN"], missingSecrets: ["GH_TOKEN"], constraints: ["read only"],
            sessionId: "session_0123456789abcdef", timeoutSeconds: 30, createdAt: 1)
        (request.tenantId, request.accountName, request.args) = ("tenant_0123456789abcdef", "Ada", ["N": "1"])
        (request.enclave, request.passkeyRequired) = (EnclaveIdentity(appId: "00", composeHash: hash, development: true), true)
        request.secretBindings = ["GH_TOKEN": SecretBinding(hosts: ["api.github.com:443"], placement: "header")]
        let statement = ConsentStatement(
            purpose: "decide", tenantId: "tenant_0123456789abcdef", subject: "exec_0123456789abcdef", decision: "approve", level: "scope", codeSha256: hash,
            hosts: ["api.github.com:443"], secrets: ["GH_TOKEN"], suppliedSecrets: ["GH_TOKEN"], args: ["N": "1"], timeoutSeconds: 30, anyCode: true,
            expiresAt: 5, maxRuns: 3, nonce: "00", issuedAt: 1)
        let challenge = ChallengeReply(
            nonce: "00", challenge: "AA", rpId: "localhost", statement: statement, allowCredentials: ["AA"], userId: "AA", userName: "Ada", timeoutMilliseconds: 60000)
        var session = SessionInfo(
            sessionId: "session_0123456789abcdef", status: "active", createdAt: 1, lastActivity: 2, ageMinutes: 3, idleMinutes: 4, runs: 5,
            policy: SessionPolicyView(description: "d", constraints: ["c"], allowedSecrets: ["X"], allowedNetworks: ["x.com:443"], approvedCode: [hash], anyCode: true))
        (session.expiresAt, session.maxRuns) = (6, 7)
        return [
            ("ExecutionStatus", try encoded(status)),
            ("DryRunResult", try encoded(dryRun)),
            ("ApprovalRequest", try encoded(request)),
            ("ApprovalOutcome", try encoded(ApprovalOutcome(id: "exec_0123456789abcdef", status: "approved", message: "m", sessionId: "session_0123456789abcdef", missingSecrets: ["X"]))),
            ("ChallengeReply", try encoded(challenge)),
            ("SessionList", try encoded(SessionList(sessions: [session]))),
            ("TenantInfo", try encoded(TenantInfo(tenantId: "tenant_0123456789abcdef", name: "Ada", plan: "free", authentication: "api_key", createdAt: 1, secrets: 2, jobs: 3))),
            ("HistoryResponse", try encoded(HistoryResponse(history: [
                HistoryEntry(requestId: "exec_0123456789abcdef", skillId: "hello", codeSha256: hash, status: "completed", approvedBy: "token", outcome: "ok", createdAt: 1, completedAt: 2),
            ]))),
            ("SecretList", try encoded(SecretList(secrets: [SecretInfo(name: "X", createdAt: 1, updatedAt: 2, binding: SecretBinding(hosts: ["api.github.com:443"], placement: "header"))]))),
            ("SignupResponse", try encoded(SignupResponse(tenantId: "tenant_0123456789abcdef", apiKey: "oauth3_x"))),
            ("ApproverInfo", try encoded(ApproverInfo(credentialId: "AA", name: "phone", algorithm: -7, createdAt: 1))),
            ("TrustedCodeInfo", try encoded(TrustedCodeInfo(codeSha256: hash, createdAt: 1, expiresAt: 2, maxRuns: 3, runs: 1, byPasskey: true))),
            ("Error", try encoded(ErrorBody(error: "e", problems: [.init(line: 1, tag: "skill", message: "m")], quota: "queue"))),
        ]
    }

    @Test("schemathesis, with the daemon's auth, finds no server error and no reply outside the spec", .enabled(if: installed, "schemathesis is missing: run scripts/setup.sh"))
    func schemathesisFindsNothing() async throws {
        let daemon = try await LiveDaemon.start()
        let (_, key) = try await signup(daemon)
        let run = try await Self.schemathesis(Self.spec, daemon: daemon, key: key)
        #expect(run.status == 0, "schemathesis found failures:\n\(run.out)\n\(run.err)")
        // It reached the daemon's logic with the key, not only its 401s (its first run here revoked its own key
        // through POST /account/agent-key and then tested 20 operations against 401 alone, and passed).
        #expect(!run.out.contains("Authentication failed"), "schemathesis's requests were not authenticated:\n\(run.out)")
        #expect(run.out.contains("Tested: 32") && run.out.contains(" passed"), "\(run.out)")
    }

    @Test("schemathesis fails against a deliberately wrong spec (a field the daemon never sends made required)", .enabled(if: installed, "schemathesis is missing: run scripts/setup.sh"))
    func schemathesisCanFail() async throws {
        let daemon = try await LiveDaemon.start()
        let (_, key) = try await signup(daemon)
        let yaml = try String(contentsOfFile: Self.spec, encoding: .utf8)
        let original = "      required: [tenant_id, plan, authentication, created_at, secrets, jobs]\n"
        #expect(yaml.contains(original))
        let wrong = Fixture.workRoot() + "/wrong-openapi.yaml"
        try yaml.replacingOccurrences(of: original, with: "      required: [tenant_id, plan, authentication, created_at, secrets, jobs, billing_address]\n")
            .write(toFile: wrong, atomically: true, encoding: .utf8)
        let run = try await Self.schemathesis(wrong, daemon: daemon, key: key, only: "/me")
        #expect(run.status != 0, "schemathesis passed a spec that requires a field GET /me never sends:\n\(run.out)")
        #expect(run.out.contains("billing_address"), "\(run.out)")
    }

    /// schemathesis against `daemon` with `key`: the checks that say the spec and the server agree, a bounded
    /// number of examples per operation, one worker (two cores are shared), a fixed seed so a failure replays.
    /// `POST /account/agent-key` is left out: it revokes the key the run uses (the real flow above covers it).
    static func schemathesis(_ spec: String, daemon: LiveDaemon, key: String, only path: String? = nil) async throws -> (status: Int32, out: String, err: String) {
        var arguments = [
            "run", spec, "--url", daemon.url.absoluteString, "--header", "Authorization: Bearer \(key)",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance",
            "--max-examples", "12", "--phases", "examples,coverage,fuzzing", "--workers", "1", "--seed", "18",
            "--request-timeout", "10", "--no-color", "--output-truncate", "false", "--suppress-health-check", "all",
            "--exclude-operation-id", "replaceAgentKey",
        ]
        if let path { arguments += ["--include-path", path] }
        // In a folder of its own: schemathesis and Hypothesis keep their databases in the working directory.
        let folder = Fixture.workRoot()
        let run = try await Fixture.execute(
            "/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", folder, Self.schemathesis] + arguments,
            environment: ["PATH": "/usr/bin:/bin", "HOME": folder, "NO_COLOR": "1"])
        return (run.status, run.out, run.err)
    }

    /// One call of every operation the spec describes, with the replies a client really gets: successes along
    /// a whole job's life (a result with its attestation included), and the errors the daemon answers.
    static func exerciseEveryOperation(_ replies: Replies) async throws {
        let json = ["Content-Type": "application/json"]
        try await replies.send("GET", "/healthz")
        try await replies.send("GET", "/readyz")
        try await replies.send("GET", "/metrics")
        try await replies.send("GET", "/openapi.json")
        try await replies.send("GET", "/v1/attestation?nonce=00112233445566778899aabb", as: "/v1/attestation")
        try await replies.send("GET", "/v1/attestation?nonce=xyz", as: "/v1/attestation")
        try await replies.send("GET", "/signup")
        try await replies.send("GET", "/claim")
        try await replies.send("POST", "/signup/passkey/challenge", body: #"{"name":"Ada"}"#, headers: json)
        try await replies.send("POST", "/signup/passkey", body: #"{"nonce":"00","attestation_object":"AA","client_data_json":"AA"}"#, headers: json)

        let account = try await replies.send("POST", "/signup", body: #"{"name":"spec","nickname":"unread"}"#, headers: json)
        let key = try JSONDecoder().decode(SignupResponse.self, from: Data(account.utf8)).apiKey
        let agent = ["Authorization": "Bearer \(key)", "Content-Type": "application/json"]
        try await replies.send("GET", "/me", headers: agent)
        try await replies.send("GET", "/me")
        try await replies.send("GET", "/me", headers: ["Authorization": "Bearer not-a-key"])

        // A job's whole life: submitted (with a warning), polled, shown, approved, completed with its result.
        let submitted = try await replies.send("POST", "/execute", body: Self.body(["skill_code": .string(hello), "skillCode": .string("x")]), headers: agent)
        let job = try JSONDecoder().decode(ExecutionStatus.self, from: Data(submitted.utf8))
        let jobToken = token(of: job.approvalUrl)
        try await replies.send("POST", "/execute", body: Self.body(["skill_code": .string(hello), "dry_run": .bool(true)]), headers: agent)
        try await replies.send("POST", "/execute", body: Self.body(["skill_code": .string("// @skil x\nconsole.log(1)\n")]), headers: agent)
        try await replies.send("POST", "/execute", body: #"{"skill_url":"https://example.com/s.ts"}"#, headers: agent)
        try await replies.send("GET", "/execute/\(job.requestId)/status", as: "/execute/{id}/status", headers: agent)
        try await replies.send("GET", "/execute/exec_0000000000000000/status", as: "/execute/{id}/status", headers: agent)
        try await replies.send("GET", "/approve/\(job.requestId)?token=\(jobToken)", as: "/approve/{id}", headers: ["Accept": "application/json"])
        try await replies.send("GET", "/approve/\(job.requestId)?token=\(jobToken)", as: "/approve/{id}", headers: ["Accept": "text/html"])
        try await replies.send("GET", "/approve/\(job.requestId)?token=00", as: "/approve/{id}", headers: ["Accept": "application/json"])
        try await replies.send(
            "POST", "/approve/\(job.requestId)/challenge", as: "/approve/{id}/challenge", body: Self.body(["token": .string(jobToken), "action": .string("approve")]), headers: json)
        try await replies.send(
            "POST", "/approve/\(job.requestId)", as: "/approve/{id}", body: Self.body(["token": .string(jobToken), "action": .string("approve"), "note": .string("unread")]), headers: json)
        var done = job
        for _ in 0..<60 where !done.isFinal {
            let polled = try await replies.send("GET", "/execute/\(job.requestId)/status?wait=true&timeout=5", as: "/execute/{id}/status", headers: agent)
            done = try JSONDecoder().decode(ExecutionStatus.self, from: Data(polled.utf8))
        }
        #expect(done.status == "completed" && done.result != nil, "the flow's job did not complete: \(done)")
        try await replies.send("POST", "/approve/\(job.requestId)", as: "/approve/{id}", body: Self.body(["token": .string(jobToken), "action": .string("deny")]), headers: json)

        // The page's form, denying another job.
        let other = try JSONDecoder().decode(
            ExecutionStatus.self, from: Data(try await replies.send("POST", "/execute", body: Self.body(["skill_code": .string(hello)]), headers: agent).utf8))
        try await replies.send(
            "POST", "/approve/\(other.requestId)", as: "/approve/{id}", body: "token=\(token(of: other.approvalUrl))&decision=deny",
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"])
        try await replies.send("GET", "/history?limit=5", as: "/history", headers: agent)

        // Secrets.
        try await replies.send("PUT", "/secrets/API_TOKEN", as: "/secrets/{name}", body: #"{"value":"v-1"}"#, headers: agent)
        try await replies.send("PUT", "/secrets/API_TOKEN", as: "/secrets/{name}", body: #"{"value":"v-1","sealed":{"enc":"00","ciphertext":"00"}}"#, headers: agent)
        try await replies.send("POST", "/secrets", body: #"{"name":"OTHER_TOKEN","value":"v-2"}"#, headers: agent)
        try await replies.send("GET", "/secrets", headers: agent)
        try await replies.send("DELETE", "/secrets/OTHER_TOKEN", as: "/secrets/{name}", headers: agent)
        try await replies.send("DELETE", "/secrets/OTHER_TOKEN", as: "/secrets/{name}", headers: agent)

        // A scope, its session, and the session's end.
        let scoped = try await replies.send(
            "POST", "/scope", body: Self.body(["description": .string("read repos"), "secrets": .array([.string("API_TOKEN")]), "networks": .array([.string("api.github.com")])]),
            headers: agent)
        let scope = try JSONDecoder().decode(ExecutionStatus.self, from: Data(scoped.utf8))
        try await replies.send("GET", "/approve/\(scope.requestId)?token=\(token(of: scope.approvalUrl))", as: "/approve/{id}", headers: ["Accept": "application/json"])
        try await replies.send(
            "POST", "/approve/\(scope.requestId)", as: "/approve/{id}", body: Self.body(["token": .string(token(of: scope.approvalUrl)), "action": .string("approve")]), headers: json)
        let session = try #require(scope.sessionId)
        try await replies.send("GET", "/sessions", headers: agent)
        try await replies.send("GET", "/sessions/\(session)", as: "/sessions/{id}", headers: agent)
        try await replies.send("DELETE", "/sessions/\(session)", as: "/sessions/{id}", headers: agent)
        try await replies.send("GET", "/sessions/session_0000000000000000", as: "/sessions/{id}", headers: agent)
        try await replies.send("POST", "/scope", body: #"{"constraints":[]}"#, headers: agent)

        // The account: trusted code, approvers, owner's actions.
        try await replies.send("GET", "/trusted", headers: agent)
        try await replies.send("DELETE", "/trusted/\(String(repeating: "0", count: 64))", as: "/trusted/{sha256}", headers: agent)
        try await replies.send("GET", "/approvers", headers: agent)
        try await replies.send("POST", "/approvers/challenge", body: #"{"name":"phone"}"#, headers: agent)
        try await replies.send("POST", "/approvers", body: #"{"nonce":"00","attestation_object":"AA","client_data_json":"AA"}"#, headers: agent)
        try await replies.send("DELETE", "/approvers/AAAA", as: "/approvers/{id}", headers: agent)
        try await replies.send("POST", "/account/challenge", body: #"{"purpose":"revoke_trusted_code","subject":"00"}"#, headers: agent)
        try await replies.send("POST", "/account/agent-key", headers: agent)
    }

    static func body(_ members: [String: JSONValue]) -> String {
        String(decoding: try! JSONEncoder().encode(JSONValue.object(members)), as: UTF8.self)
    }

    private func signup(_ daemon: LiveDaemon) async throws -> (String, String) {
        let account = try await daemon.client(nil).signup(name: "schemathesis")
        return (account.tenantId, account.apiKey)
    }
}

/// Real exchanges with a daemon, each recorded with the spec's path template it is an instance of.
actor Replies {
    let daemon: LiveDaemon
    private(set) var recorded: [Reply] = []

    /// One exchange, as scripts/openapi/check_replies.py reads it.
    struct Reply: Codable, Sendable {
        var method, path: String
        var status: Int
        var contentType: String
        var body: String
        enum CodingKeys: String, CodingKey { case method, path, status, contentType = "content_type", body }
    }

    init(daemon: LiveDaemon) { self.daemon = daemon }

    /// Sends one request and records its reply; returns the body.
    @discardableResult
    func send(_ method: String, _ path: String, as template: String? = nil, body: String? = nil, headers: [String: String] = [:]) async throws -> String {
        let reply = try await daemon.raw(method, path, body: body.map { Data($0.utf8) }, headers: headers)
        recorded.append(Reply(method: method, path: template ?? path, status: reply.status, contentType: reply.headers["content-type"] ?? "", body: reply.body))
        return reply.body
    }
}

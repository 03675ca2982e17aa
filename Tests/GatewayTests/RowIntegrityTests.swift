import Crypto
import DCAPVerifier
import Foundation
import Gateway
import OAuth3Client
import OAuth3Wire
import Store
import TestSupport
import Testing

/// The database is not trusted (docs/design.md): a real daemon's SQLite file is changed with Python's
/// sqlite3 while the daemon runs, as an operator with the file and without the enclave's key could, and
/// the daemon must refuse what was changed (naming table and row), audit it, count it, and never run or
/// serve it.
@Suite("Rows changed outside the enclave are refused, audited, counted, never run or served", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct RowIntegrityTests {
    /// Holds the one worker long enough for the test to change the queued row (under load too).
    static let slow = """
        // @skill slow
        // @timeout 30
        await new Promise((done) => setTimeout(done, 6000))
        console.log("slow done")
        """

    func sql(_ daemon: LiveDaemon, _ statement: String, _ parameters: [String] = []) async throws -> [String] {
        try await AccountStorageTests.sqlite(daemon.dataDirectory + "/enclave.sqlite", statement, parameters)
    }

    /// The `integrity_violation` entries of the audit log, as `table|row` (read from the file, not the store).
    func audited(_ daemon: LiveDaemon) async throws -> [String] {
        try await sql(daemon, "SELECT json_extract(detail, '$.table') || '|' || json_extract(detail, '$.row') FROM audit WHERE event = 'integrity_violation' ORDER BY seq")
    }

    func metric(_ daemon: LiveDaemon, table: String) async throws -> String? {
        try await daemon.raw("GET", "/metrics").body.split(separator: "\n")
            .first { $0.hasPrefix(#"oauth3_integrity_violations_total{table="\#(table)"}"#) }.map { String($0.split(separator: " ").last!) }
    }

    func bearer(_ client: OAuth3Client) -> [String: String] { ["Authorization": "Bearer \(client.apiKey ?? "")", "Content-Type": "application/json"] }

    @Test("Code swapped after approval: the queued job ends failed (integrity_violation) once and never runs")
    func codeSwappedAfterApproval() async throws {
        let daemon = try await LiveDaemon.start { $0.workers = 1 }
        let (agent, _) = try await daemon.tenant()
        let busy = try await agent.execute(.init(skillCode: Self.slow))
        _ = try await approve(daemon, busy)
        try await waitUntil("the one worker is busy") { try await agent.status(busy.requestId).status == "executing" }
        let queued = try await agent.execute(.init(skillCode: hello))
        _ = try await approve(daemon, queued)
        #expect(try await agent.status(queued.requestId).status == "approved")
        // The operator puts the other job's (sealed) code into the approved row.
        _ = try await sql(daemon, "UPDATE job SET code = (SELECT code FROM job WHERE id = ?) WHERE id = ?", [busy.requestId, queued.requestId])

        // Until a worker meets it, reading it is refused (codeSwappedBeforeApproval); the worker that would take it ends it.
        try await waitUntil("a worker met the changed row", within: .seconds(30)) { try await sql(daemon, "SELECT status FROM job WHERE id = ?", [queued.requestId]) == ["failed"] }
        let ended = try await agent.status(queued.requestId)
        #expect(ended.status == "failed" && ended.result == nil, "\(ended)")
        #expect(ended.error == "integrity violation: table job, row \(queued.requestId): column code does not open under this row's key (edited, or moved from another row, tenant or column); the row was changed outside the enclave and is refused")
        // Audited when the job ended (and when a read was refused, if one came first): that once, and it never started.
        let entries = try await daemon.service.store.audit(job: queued.requestId)
        #expect(entries.filter { $0.event == "integrity_violation" && $0.detail.contains(#""status":"failed""#) }.count == 1, "\(entries)")
        #expect(!entries.map(\.event).contains("job.started"), "\(entries)")
        #expect(try await agent.poll(busy.requestId, timeout: .seconds(30)).result?.claims.run.stdout == "slow done\n")
        #expect(try await metric(daemon, table: "job") == "1", "counted once per row and reason")
        #expect(Set(try await audited(daemon)) == ["job|\(queued.requestId)"])
    }

    @Test("Code swapped while pending: the approval page and the decision are refused, naming the row, and the code is never shown")
    func codeSwappedBeforeApproval() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let pending = try await agent.execute(.init(skillCode: hello))
        _ = try await sql(daemon, "UPDATE job SET code = 'console.log(Deno.env.toObject())' WHERE id = ?", [pending.requestId])
        let page = try await daemon.raw("GET", "/approve/\(pending.requestId)?token=\(token(of: pending.approvalUrl))", headers: ["Accept": "text/html"])
        #expect(page.status == 500 && page.body.contains("table job, row \(pending.requestId): column code is not sealed") && !page.body.contains("toObject"), "\(page)")
        let decided = try await approve(daemon, pending)
        #expect(decided.status == 500 && decided.body.contains("row \(pending.requestId)"), "\(decided)")
        #expect(try await audited(daemon) == ["job|\(pending.requestId)"], "audited once, however often it is refused")
        #expect(try await sql(daemon, "SELECT status FROM job WHERE id = ?", [pending.requestId]) == ["pending"])
    }

    @Test("A result edited in the database is not served: status answers 500 naming the row")
    func resultEdited() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let job = try await agent.execute(.init(skillCode: hello))
        _ = try await approve(daemon, job)
        #expect(try await agent.poll(job.requestId, timeout: .seconds(60)).status == "completed")
        _ = try await sql(daemon, "UPDATE job SET resultJSON = '{\"forged\":true}' WHERE id = ?", [job.requestId])
        let status = try await daemon.raw("GET", "/execute/\(job.requestId)/status", headers: bearer(agent))
        #expect(status.status == 500 && status.body.contains("table job, row \(job.requestId): column resultJSON is not sealed") && !status.body.contains("forged"), "\(status)")
        let history = try await daemon.raw("GET", "/history", headers: bearer(agent))
        #expect(history.status == 500 && history.body.contains("row \(job.requestId)"))
    }

    @Test("A job row moved to another tenant opens for neither")
    func movedToAnotherTenant() async throws {
        let daemon = try await LiveDaemon.start()
        let (owner, _) = try await daemon.tenant("owner")
        let (other, otherId) = try await daemon.tenant("other")
        let job = try await owner.execute(.init(skillCode: hello, args: ["CITY": .string("Lisbon")]))
        _ = try await sql(daemon, "UPDATE job SET tenantId = ? WHERE id = ?", [otherId, job.requestId])
        let stolen = try await daemon.raw("GET", "/execute/\(job.requestId)/status", headers: bearer(other))
        #expect(stolen.status == 500 && stolen.body.contains("table job, row \(job.requestId): column code does not open") && !stolen.body.contains("Lisbon"), "\(stolen)")
        #expect(try await daemon.raw("GET", "/execute/\(job.requestId)/status", headers: bearer(owner)).status == 404)
    }

    @Test("A revoked session re-activated in the database approves nothing: its use is refused, naming the session")
    func revokedSessionReactivated() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let session = try await SessionFlowTests().approvedSession(daemon, agent)
        #expect(try await daemon.raw("DELETE", "/sessions/\(session)", headers: bearer(agent)).status == 200)
        _ = try await sql(daemon, "UPDATE session SET revokedAt = NULL WHERE id = ?", [session])
        let body = try JSONEncoder().encode(ExecuteRequest(skillCode: github, sessionId: session))
        let use = try await daemon.raw("POST", "/execute", body: body, headers: bearer(agent))
        #expect(use.status == 500 && use.body.contains("table session, row \(session): the row's MAC does not verify"), "\(use)")
        #expect(try await daemon.raw("GET", "/sessions", headers: bearer(agent)).status == 500)
        #expect(try await sql(daemon, "SELECT COUNT(*) FROM job WHERE sessionId = ? AND kind = 'execute'", [session]) == ["0"])
        #expect(try await audited(daemon) == ["session|\(session)"])
        #expect(try await metric(daemon, table: "session") == "1")
    }

    @Test("A trusted-code row inserted in the database does not approve: the submission is refused, naming the row")
    func trustedCodeInserted() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, tenantId) = try await daemon.tenant()
        let hash = SHA256.hash(data: Data(hello.utf8)).map { String(format: "%02x", $0) }.joined()
        _ = try await sql(daemon, "INSERT INTO trustedCode (tenantId, codeSHA256, createdAt, runs) VALUES (?, ?, 0, 0)", [tenantId, hash])
        let body = try JSONEncoder().encode(ExecuteRequest(skillCode: hello))
        let submitted = try await daemon.raw("POST", "/execute", body: body, headers: bearer(agent))
        #expect(submitted.status == 500 && submitted.body.contains("table trustedCode, row \(tenantId)/\(hash): the row has no MAC"), "\(submitted)")
        #expect(try await sql(daemon, "SELECT COUNT(*) FROM job WHERE status IN ('approved', 'executing', 'completed')") == ["0"])
        #expect(try await metric(daemon, table: "trustedCode") == "1")
    }

    @Test("An API key put into the database by its operator does not open the account")
    func apiKeyReplaced() async throws {
        let daemon = try await LiveDaemon.start()
        let (_, tenantId) = try await daemon.tenant()
        let forged = "oauth3_operator-key"
        let hash = SHA256.hash(data: Data(forged.utf8)).map { String(format: "%02x", $0) }.joined()
        _ = try await sql(daemon, "UPDATE tenant SET apiKeyHash = x'\(hash)' WHERE id = ?", [tenantId])
        let me = try await daemon.raw("GET", "/me", headers: ["Authorization": "Bearer \(forged)"])
        #expect(me.status == 500 && me.body.contains("table tenant, row \(tenantId)"), "\(me)")
    }

    @Test("A rollback of the whole file verifies row by row, but the audit head /v1/attestation signs moves backwards")
    func rollback() async throws {
        let directory = Fixture.workRoot()
        let first = try await LiveDaemon.start(dataDirectory: directory)
        let (agent, _) = try await first.tenant()
        await first.stop()
        let copy = Fixture.workRoot()
        let files = ["enclave.sqlite", "enclave.sqlite-wal", "enclave.sqlite-shm"].filter { FileManager.default.fileExists(atPath: directory + "/" + $0) }
        for file in files { try FileManager.default.copyItem(atPath: directory + "/" + file, toPath: copy + "/" + file) }

        let later = try await LiveDaemon.start(dataDirectory: directory)
        let job = try await later.client(agent.apiKey).execute(.init(skillCode: hello))
        let seen = try await head(later)
        await later.stop()
        for file in files {
            try FileManager.default.removeItem(atPath: directory + "/" + file)
            try FileManager.default.copyItem(atPath: copy + "/" + file, toPath: directory + "/" + file)
        }
        let rolledBack = try await LiveDaemon.start(dataDirectory: directory)
        // Every row verifies: the rolled-back state is one the daemon wrote. The job is simply gone.
        #expect(try await rolledBack.client(agent.apiKey).me().tenantId.hasPrefix("tenant_"))
        #expect(try await rolledBack.raw("GET", "/execute/\(job.requestId)/status", headers: bearer(agent)).status == 404)
        #expect(try await audited(rolledBack).isEmpty)
        // A client that kept the head it saw sees the log go backwards.
        let now = try await head(rolledBack)
        #expect(now.seq < seen.seq, "head \(now.seq) after \(seen.seq)")
    }

    /// The audit head of a fresh attestation, its signature checked against the attested signing key.
    func head(_ daemon: LiveDaemon) async throws -> (seq: Int64, hash: String) {
        let nonce = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let reply = try await daemon.raw("GET", "/v1/attestation?nonce=\(nonce.map { String(format: "%02x", $0) }.joined())")
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(reply.body.utf8))
        guard case .object(let members) = document, case .object(let head)? = members["audit_head"], case .number(let seq)? = head["seq"],
              case .string(let hash)? = head["hash"], case .string(let signature)? = head["signature"], case .string(let key)? = members["signing_public_key"]
        else { throw POSIXError(.EBADMSG) }
        let message = Array("oauth3-enclave/audit-head-signed/v1".utf8) + [0] + Array("\(Int64(seq))\u{0}\(hash)\u{0}\(nonce.map { String(format: "%02x", $0) }.joined())".utf8)
        let publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: try #require(bytes(fromHex: key)))
        #expect(publicKey.isValidSignature(try #require(bytes(fromHex: signature)), for: message), "the head's signature verifies with the attested key")
        return (Int64(seq), hash)
    }
}

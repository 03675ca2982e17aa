import DCAPVerifier
import Foundation
@testable import Gateway
import OAuth3Client
import OAuth3Wire
import Store
import TestSupport
import Testing

/// What the documentation (docs/operations.md, docs/api.md) promises about accounts at rest and in use: signup can be closed, API keys and approval
/// tokens are stored only as their SHA-256, sessions stop approving past their expiry or run count, and the
/// audit log shows what was removed from it.
/// The database is read here with Python's sqlite3, not through the store under test.
@Suite("Accounts at rest: closed signup, credentials stored as hashes, session limits, the sealed audit head", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct AccountStorageTests {
    /// Runs `sql` on the SQLite file at `path` with Python's sqlite3; returns the rows, one per line, columns
    /// separated by `|`, blobs as hex.
    static func sqlite(_ path: String, _ sql: String, _ parameters: [String] = []) async throws -> [String] {
        let script = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1], timeout=10)
            rows = db.execute(sys.argv[2], sys.argv[3:]).fetchall()
            db.commit()
            for row in rows: print("|".join(value.hex() if isinstance(value, bytes) else str(value) for value in row))
            """
        let run = try await Fixture.execute("/usr/bin/python3", ["-c", script, path, sql] + parameters)
        try #require(run.status == 0, "sqlite3: \(run.err)")
        return run.out.split(separator: "\n").map(String.init)
    }

    /// SHA-256 (hex) of the UTF-8 of `text`, by Python's hashlib.
    static func sha256(_ text: String) async throws -> String {
        let run = try await Fixture.execute(
            "/usr/bin/python3", ["-c", "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest(), end='')", text])
        return run.out
    }

    @Test("OAUTH3_SIGNUP=closed and --closed-signup refuse POST /signup with 403; any other value stops the daemon at start")
    func closedSignup() async throws {
        for (arguments, environment) in [([], ["OAUTH3_SIGNUP": "closed"]), (["--closed-signup"], [:])] as [([String], [String: String])] {
            let daemon = try await DaemonProcess.start(arguments: arguments, environment: environment)
            let reply = try await Self.post(daemon.url.appendingPathComponent("signup"), body: #"{"name":"x"}"#)
            #expect(reply.status == 403 && reply.body.contains("signup is closed"), "\(arguments) \(environment): \(reply)")
            // Nothing was created: the database holds no tenant.
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit(within: .seconds(15)))
            #expect(try await Self.sqlite(daemon.dataDirectory + "/data/enclave.sqlite", "SELECT COUNT(*) FROM tenant") == ["0"])
        }
        let open = try await DaemonProcess.start(environment: ["OAUTH3_SIGNUP": "open"])
        #expect(try await Self.post(open.url.appendingPathComponent("signup"), body: "{}").status == 201)
        await open.stop()
        await #expect { try await DaemonProcess.start(environment: ["OAUTH3_SIGNUP": "Closed"]) } throws: { error in
            "\(error)".contains("OAUTH3_SIGNUP must be open or closed, not 'Closed'")
        }
    }

    @Test("API keys and approval tokens are stored only as SHA-256: the hashes match, and neither value is anywhere in the files")
    func credentialsAsHashes() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, tenantId) = try await daemon.tenant()
        let apiKey = try #require(agent.apiKey)
        let job = try await agent.execute(.init(skillCode: hello))
        let approvalToken = token(of: job.approvalUrl)
        #expect(approvalToken.count == 64)
        await daemon.stop()  // the files are complete once it stopped; the WAL is read as it was left

        let database = daemon.dataDirectory + "/enclave.sqlite"
        #expect(try await Self.sqlite(database, "SELECT apiKeyHash FROM tenant WHERE id = ?", [tenantId]) == [try await Self.sha256(apiKey)])
        #expect(try await Self.sqlite(database, "SELECT tokenHash FROM job WHERE id = ?", [job.requestId]) == [try await Self.sha256(approvalToken)])
        let files = try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory).filter { $0.hasPrefix("enclave.sqlite") }
        #expect(files.contains("enclave.sqlite"))
        let tokenBytes = try #require(bytes(fromHex: approvalToken))
        for file in files {
            let contents = try #require(FileManager.default.contents(atPath: daemon.dataDirectory + "/" + file))
            for (name, needle) in [
                ("API key", Data(apiKey.utf8)), ("API key without its prefix", Data(apiKey.dropFirst("oauth3_".count).utf8)),
                ("approval token", Data(approvalToken.utf8)), ("approval token's bytes", Data(tokenBytes)),
                ("approval token in upper case", Data(approvalToken.uppercased().utf8)),
            ] {
                #expect(contents.range(of: needle) == nil, "\(file) holds the \(name)")
            }
        }
        // The hashes still work: the key authenticates and the token approves after a restart.
        let again = try await LiveDaemon.start(dataDirectory: daemon.dataDirectory)
        let client = again.client(apiKey)
        #expect(try await client.me().tenantId == tenantId)
        let (status, body) = try await approve(again, job)
        #expect(status == 200 && body.contains("approved"), "\(body)")
    }

    @Test("Each auto-approved run is counted; a session stops approving at its run count, and past its expiry")
    func sessionLimits() async throws {
        let clock = ManualClock(start: 1_800_000_000_000)
        let daemon = try await LiveDaemon.start(clock: clock)
        let (agent, _) = try await daemon.tenant()
        let scope = try await agent.scope(scopeRequest)
        try await approve(daemon, scope, secrets: ["GH_TOKEN": "ghp_limits"])
        let session = try #require(scope.sessionId)

        for run in 1...2 {
            clock.advance(seconds: 60)
            let job = try await agent.execute(.init(skillCode: github, sessionId: session))
            #expect(job.status == "approved" && job.approvedBy == "session_policy", "run \(run): \(job)")
            let listed = try #require(try await agent.sessions().sessions.first)
            #expect(listed.runs == run && listed.lastActivity == clock.now(), "run \(run): \(listed)")
        }
        // Set through the store here (the scope page sets them too: ConsentTokenTests), so the clock can pass the
        // expiry; the row is authenticated, so raw SQL would be refused (RowIntegrityTests).
        try await daemon.service.store.limitSession(id: session, expiresAt: nil, maxRuns: 2)
        let usedUp = try await agent.execute(.init(skillCode: github, sessionId: session))
        #expect(usedUp.status == "pending" && usedUp.policyViolations == ["session \(session) is used up: 2 runs"], "\(usedUp)")
        #expect(try await agent.sessions().sessions.first?.status == "expired")

        try await daemon.service.store.limitSession(id: session, expiresAt: clock.now() + 60_000, maxRuns: nil)
        #expect(try await agent.dryRun(.init(skillCode: github, sessionId: session)).wouldAutoApprove)
        clock.advance(seconds: 60)
        let expired = try await agent.dryRun(.init(skillCode: github, sessionId: session))
        #expect(!expired.wouldAutoApprove && expired.policyViolations == ["session \(session) is expired"], "\(expired)")
    }

    @Test("The daemon seals the audit log's head with a key from its vault: the last entry removed while it was stopped is found after a restart, and stays found")
    func auditHead() async throws {
        let directory = Fixture.workRoot()
        let daemon = try await LiveDaemon.start(dataDirectory: directory)
        _ = try await daemon.tenant("first")
        _ = try await daemon.tenant("second")
        // Entry 1 is the start's `integrity.rows_protected`, then one signup each.
        #expect(try await daemon.service.store.auditIntegrity() == .intact(entries: 3))
        await daemon.stop()
        let database = directory + "/enclave.sqlite"
        #expect(try await Self.sqlite(database, "SELECT seq, length(mac) FROM auditHead") == ["3|64"])
        // The operator removes the last entry (and its number, so the next append reuses it).
        _ = try await Self.sqlite(database, "DELETE FROM audit WHERE seq = 3")
        _ = try await Self.sqlite(database, "UPDATE sqlite_sequence SET seq = 2 WHERE name = 'audit'")

        let restarted = try await LiveDaemon.start(dataDirectory: directory)
        #expect(try await restarted.service.store.auditIntegrity() == .broken(at: 3, reason: "entry 3 is missing: the recorded head is entry 3"))
        _ = try await restarted.tenant("third")  // an append on top: the gap is not sealed over
        #expect(try await restarted.service.store.auditIntegrity() == .broken(at: 3, reason: "the recorded head is not sealed"))
    }

    static func post(_ url: URL, body: String) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

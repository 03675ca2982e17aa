import Foundation
import Gateway
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

@Suite("Bad requests get a clear 4xx that names the problem", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct RequestErrorTests {
    @Test("Authentication: none, malformed, unknown key, all 401; nothing is open")
    func authentication() async throws {
        let daemon = try await LiveDaemon.start()
        let body = try JSONEncoder().encode(ExecuteRequest(skillCode: hello))
        let json = ["Content-Type": "application/json"]
        for (headers, fragment) in [
            (json, "missing Authorization"),
            (json.merging(["Authorization": "Basic abc"]) { $1 }, "Bearer"),
            (json.merging(["Authorization": "Bearer oauth3_nope"]) { $1 }, "unknown API key"),
            (json.merging(["Authorization": "Bearer a.b.c"]) { $1 }, "JWTs are not accepted"),
        ] {
            let reply = try await daemon.raw("POST", "/execute", body: body, headers: headers)
            #expect(reply.status == 401, "\(headers)")
            #expect(reply.body.contains(fragment), "\(reply.body)")
            #expect(reply.headers["www-authenticate"] == "Bearer")
        }
        for path in ["/secrets", "/sessions", "/me", "/history", "/execute/exec_0000000000000000/status"] {
            #expect(try await daemon.raw("GET", path).status == 401, "\(path)")
        }
    }

    @Test("Each daemon keeps its own body limit, whatever another daemon in the process was given")
    func bodyLimitPerDaemon() async throws {
        let small = try await LiveDaemon.start { $0.maxBodyBytes = 64 * 1024 }
        let large = try await LiveDaemon.start { $0.maxBodyBytes = 4 << 20 }  // started second: it must not widen `small`
        let body = Data(("{\"skill_code\": \"// @skill big\\n//" + String(repeating: "x", count: 70 * 1024) + "\"}").utf8)
        for (daemon, expected) in [(small, 413), (large, 201)] {
            let account = try await daemon.client(nil).signup()
            let reply = try await daemon.raw(
                "POST", "/execute", body: body, headers: ["Content-Type": "application/json", "Authorization": "Bearer \(account.apiKey)"])
            #expect(reply.status == expected, "\(reply.status) \(reply.body.prefix(200))")
        }
    }

    @Test("Malformed JSON, missing fields, wrong types, bad headers, oversized bodies, unknown ids")
    func badBodies() async throws {
        let daemon = try await LiveDaemon.start { $0.maxBodyBytes = 64 * 1024 }
        let account = try await daemon.client(nil).signup()
        let headers = ["Content-Type": "application/json", "Authorization": "Bearer \(account.apiKey)"]
        func post(_ text: String) async throws -> (status: Int, headers: [String: String], body: String) {
            try await daemon.raw("POST", "/execute", body: Data(text.utf8), headers: headers)
        }
        var reply = try await post("{\"skill_code\": ")
        #expect(reply.status == 400 && reply.body.contains("malformed JSON"), "\(reply.body)")
        // One strict reading: a key twice (which would let two readers see two requests) is refused, and where.
        reply = try await post(#"{"skill_code": "// @skill a\n", "skill_code": "x"}"#)
        #expect(reply.status == 400 && reply.body.contains("duplicate key \\\"skill_code\\\" at byte 32"), "\(reply.body)")
        reply = try await post(#"{"skill_code": "// @skill a\n", "args": {"N": 1.0}}"#)
        #expect(reply.status == 400 && reply.body.contains("number 1.0 is not in canonical form"), "\(reply.body)")
        reply = try await post(#"{"skill_code": "// @skill a\ud800\n"}"#)
        #expect(reply.status == 400 && reply.body.contains("lone high surrogate"), "\(reply.body)")
        reply = try await post("{\"skill_id\": \"x\"}")
        #expect(reply.status == 400 && reply.body.contains("skill_code"), "\(reply.body)")
        reply = try await post("{\"skill_code\": 42}")
        #expect(reply.status == 400 && reply.body.contains("'skill_code' has the wrong type"), "\(reply.body)")
        reply = try await post("")
        #expect(reply.status == 400 && reply.body.contains("empty"), "\(reply.body)")
        // A body that is JSON but not an object is named as the body (schemathesis's runs showed "field ''").
        for text in ["[1]", "42", #""skill""#] {
            reply = try await post(text)
            #expect(reply.status == 400 && reply.body == #"{"error":"the request body must be a JSON object"}"#, "\(text): \(reply.body)")
        }
        reply = try await post("null")
        #expect(reply.status == 400 && reply.body == #"{"error":"the request body must be a JSON object, not null"}"#, "\(reply.body)")
        reply = try await post(#"{"skill_code": "// @skill Bad\n// @network a.com,b.com\n"}"#)
        #expect(reply.status == 400)
        let error = try JSONDecoder().decode(ErrorBody.self, from: Data(reply.body.utf8))
        #expect(error.problems?.map(\.line) == [1, 2] && error.problems?.map(\.tag) == ["skill", "network"])
        reply = try await post(#"{"skill_code": "// @skill a\n", "secrets": ["NOT_DECLARED"]}"#)
        #expect(reply.status == 400 && reply.body.contains("NOT_DECLARED"), "\(reply.body)")
        reply = try await post(#"{"skill_code": "// @skill a\n", "args": {"PATH": "/evil"}}"#)
        #expect(reply.status == 400 && reply.body.contains("args.PATH"), "\(reply.body)")
        reply = try await post(#"{"skill_code": "// @skill a\n", "args": {"X": {"nested": 1}}}"#)
        #expect(reply.status == 400 && reply.body.contains("args"), "\(reply.body)")
        reply = try await post("{\"skill_code\": \"" + String(repeating: "x", count: 70 * 1024) + "\"}")
        #expect(reply.status == 413, "\(reply.status) \(reply.body.prefix(200))")
        reply = try await daemon.raw("GET", "/execute/exec_ffffffffffffffff/status", headers: headers)
        #expect(reply.status == 404 && reply.body.contains("exec_ffffffffffffffff"))
        reply = try await daemon.raw("GET", "/approve/exec_ffffffffffffffff?token=00")
        #expect(reply.status == 404)
        reply = try await daemon.raw("PUT", "/secrets/lower_case", body: Data(#"{"value":"v"}"#.utf8), headers: headers)
        #expect(reply.status == 400 && reply.body.contains("lower_case"), "\(reply.body)")
        reply = try await daemon.raw("PUT", "/secrets/LD_PRELOAD", body: Data(#"{"value":"v"}"#.utf8), headers: headers)
        #expect(reply.status == 400 && reply.body.contains("runtime"), "\(reply.body)")
    }

    @Test("Approval tokens: wrong, missing, or another job's are 403; a used one cannot decide again")
    func approvalTokens() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let one = try await agent.execute(.init(skillCode: hello))
        let two = try await agent.execute(.init(skillCode: hello))
        let json = ["Content-Type": "application/json"]
        var reply = try await daemon.raw("POST", "/approve/\(one.requestId)", body: decision(String(repeating: "0", count: 64)), headers: json)
        #expect(reply.status == 403 && reply.body.contains("invalid approval token"))
        reply = try await daemon.raw("POST", "/approve/\(one.requestId)", body: decision(token(of: two.approvalUrl)), headers: json)
        #expect(reply.status == 403)
        reply = try await daemon.raw("GET", "/approve/\(one.requestId)")
        #expect(reply.status == 403 && reply.body.contains("missing approval token"))
        reply = try await daemon.raw("POST", "/approve/\(one.requestId)", body: decision(token(of: one.approvalUrl), "maybe"), headers: json)
        #expect(reply.status == 400 && reply.body.contains("'approve' or 'deny'"))
        reply = try await daemon.raw("POST", "/approve/\(one.requestId)", body: decision(token(of: one.approvalUrl), secrets: ["OTHER": "x"]), headers: json)
        #expect(reply.status == 400 && reply.body.contains("not declared"))
        #expect(try await agent.status(two.requestId).status == "pending")
    }

    @Test("An expired approval link is refused", .timeLimit(.minutes(1)))
    func expiredToken() async throws {
        let clock = ManualClock(start: 1_800_000_000_000)
        let daemon = try await LiveDaemon.start(clock: clock) { $0.approvalTokenLifetimeSeconds = 60 }
        let (agent, _) = try await daemon.tenant()
        let job = try await agent.execute(.init(skillCode: hello))
        clock.advance(seconds: 61)
        let reply = try await approve(daemon, job)
        #expect(reply.status == 403 && reply.body.contains("expired"))
    }

    @Test("A full queue answers 429 with Retry-After")
    func queueFull() async throws {
        let daemon = try await LiveDaemon.start { $0.workers = 1; $0.queueLimit = 1 }
        let (agent, _) = try await daemon.tenant()
        let slow = "// @skill slow\n// @timeout 10\nawait new Promise((r) => setTimeout(r, 3000))\n"
        let first = try await agent.execute(.init(skillCode: slow))
        try await approve(daemon, first, level: "trust_code")
        try await waitUntil("the only worker is busy") { try await agent.status(first.requestId).status == "executing" }
        let second = try await agent.execute(.init(skillCode: slow))
        #expect(second.status == "approved")
        let body = try JSONEncoder().encode(ExecuteRequest(skillCode: slow))
        let third = try await daemon.raw("POST", "/execute", body: body, headers: ["Content-Type": "application/json", "Authorization": "Bearer \(agent.apiKey!)"])
        #expect(third.status == 429 && third.headers["retry-after"] == "5" && third.body.contains("queue is full"))
    }
}

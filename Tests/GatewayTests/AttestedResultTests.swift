import Attestation
import DCAPVerifier
import Foundation
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

/// The attested result as one typed value (`OAuth3Wire.AttestedResult`), from the sandbox to the store to
/// the API: on a result a live daemon produced (output, a secret redacted, arguments, a network transcript),
/// its typed encoding is the bytes results were hashed in before they were typed, and its binding is the one
/// an auditor recomputes with Python's `json` and `hashlib`.
@Suite("The attested result as a typed value", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct AttestedResultTests {
    /// `expression` of the bytes on stdin, by Python.
    static func python(_ script: String, input: [UInt8]) async throws -> String {
        let run = try await Fixture.execute("/usr/bin/python3", ["-c", script], input: input)
        #expect(run.status == 0, "\(run.err)")
        return run.out
    }

    @Test("A real result: the typed encoding is the old canonical bytes, Python's too, and the hash and report_data are unchanged")
    func typedEncodingIsTheOldCanonicalBytes() async throws {
        let network = try await TestNetwork.shared()
        let daemon = try await LiveDaemon.start(policies: network.policies)
        let (agent, _) = try await daemon.tenant()
        let code = """
            // @skill typed
            // @secrets API_TOKEN
            // @network api.test:8080
            const t = Deno.env.get("API_TOKEN")
            console.log(await (await fetch('http://api.test:8080/hello')).text(), Deno.env.get("MODE"), t, "é ✓")
            """
        let job = try await agent.execute(.init(skillCode: code, args: ["MODE": .string("fast")]))
        try await approve(daemon, job, secrets: ["API_TOKEN": "typed-secret-value"])
        #expect(try await agent.poll(job.requestId, timeout: .seconds(60)).status == "completed")
        let reply = try await daemon.raw("GET", "/execute/\(job.requestId)/status", headers: ["Authorization": "Bearer \(agent.apiKey!)"])
        let served = try #require(try StrictJSON.decode(JSONValue.self, from: Array(reply.body.utf8))["result"])
        let result = try AttestedResult.read(served)
        #expect(result.claims.run.stdout == "hello from api.test:8080 fast [REDACTED:API_TOKEN] é ✓\n", "\(result.claims.run.stderr)")
        #expect(result.claims.run.network?.connections.count == 1 && result.claims.consent.args == ["MODE": "fast"])
        #expect(try JSONValue(encoding: result) == served, "the typed value re-encodes to the served document")

        // The claims as Python's canonical JSON (json.dumps sorted, compact, raw UTF-8) of the served members.
        guard case .object(var members) = served else { Issue.record("the result is not an object"); return }
        members.removeValue(forKey: "attestation")
        let claimsText = try JSONEncoder().encode(JSONValue.object(members))
        let pythonCanonical = try await Self.python(
            "import json,sys; sys.stdout.buffer.write(json.dumps(json.loads(sys.stdin.read()), sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode())",
            input: Array(claimsText))
        let typed = try result.claims.canonicalEncoding()
        #expect(typed == Array(pythonCanonical.utf8))

        // The assembly before results were typed: the runner's result as JSON, the request and approval members
        // added, the consent record's members merged (JobService+Run at eda3e13).
        guard case .object(var old) = try JSONValue(encoding: result.claims.run), case .object(let consent) = try JSONValue(encoding: result.claims.consent) else {
            Issue.record("a part did not encode as an object")
            return
        }
        old["request_id"] = .string(job.requestId)
        old["approved_by"] = result.claims.approvedBy.map(JSONValue.string) ?? .null
        old["approval_detail"] = result.claims.approvalDetail.map(JSONValue.string) ?? .null
        old.merge(consent) { _, new in new }
        #expect(CanonicalJSON.encode(.object(old)) == typed)

        // The binding, by hashlib: result_sha256, and report_data = SHA-512("oauth3-enclave/result/v1" NUL hash) in the quote.
        let hash = try await Self.python("import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest(), end='')", input: typed)
        #expect(result.attestation.resultSHA256 == hash)
        let reportData = try await Self.python(
            "import hashlib,sys; print(hashlib.sha512(sys.stdin.buffer.read()).hexdigest(), end='')",
            input: Array("oauth3-enclave/result/v1".utf8) + [0] + bytes(fromHex: hash)!)
        #expect(result.attestation.reportData == reportData)
        let quote = try Quote.parse(try #require(bytes(fromHex: result.attestation.quote)))
        #expect(quote.reportData.map { String(format: "%02x", $0) }.joined() == reportData)
    }

    @Test("Reading a result refuses a member it does not know and one it writes that is missing, naming the path")
    func exactReading() async throws {
        let daemon = try await LiveDaemon.start()
        let (agent, _) = try await daemon.tenant()
        let job = try await agent.execute(.init(skillCode: hello))
        try await approve(daemon, job)
        let done = try await agent.poll(job.requestId, timeout: .seconds(60))
        let served = try JSONValue(encoding: try #require(done.result))
        #expect(try AttestedResult.read(served) == done.result)
        guard case .object(var members) = served, case .object(var attestation)? = members["attestation"], case .object(var granted)? = members["granted"] else {
            Issue.record("not the result's shape: \(served)")
            return
        }
        var added = members
        attestation["verified"] = .bool(true)
        added["attestation"] = .object(attestation)
        #expect { try AttestedResult.read(.object(added)) } throws: { "\($0)".contains("attestation.verified is not a member of the result format") }
        granted["fs"] = .array([])
        var nested = members
        nested["granted"] = .object(granted)
        #expect { try AttestedResult.read(.object(nested)) } throws: { "\($0)".contains("granted.fs is not a member") }
        members.removeValue(forKey: "approval_detail")
        #expect { try AttestedResult.read(.object(members)) } throws: { "\($0)".contains("approval_detail is missing") }
    }
}

import Consent
import Foundation
import OAuth3Wire
import Testing

/// What `oauth3-enclave verify` checks of a consent record, on the independent vectors: a record whose
/// signature is good but which is about another decision, or another run, fails by name.
@Suite("Consent records checked against their result")
struct ConsentVerifierTests {
    let vectors = WebAuthnVectorTests.vectors

    func result(args: [String: String]? = nil, statement: ConsentStatement? = nil, method: ApprovalMethod = .passkey) throws -> ResultClaims {
        let vector = vectors.es256
        let record = ApprovalRecord(method: method, at: 1, passkey: PasskeyConsent(
            statement: statement ?? vectors.statement, digest: vector.digest, credentialId: vector.credential_id, publicKey: vector.cose, algorithm: -7,
            approverName: "Alice", authenticatorData: vector.authenticator_data, clientDataJSON: vector.client_data_get, signature: vector.signature))
        let run = RunResult(
            success: true, status: "completed", outcome: .ok, exitCode: 0, signal: nil, stdout: "", stderr: "", stdoutTruncated: false,
            stderrTruncated: false, duration: 1, skill: "s", codeSHA256: vectors.statement.codeSha256!,
            granted: .init(net: ["api.example.com:443"], env: ["GH_TOKEN"]), timeoutSeconds: 30, denoVersion: "2.9.0", policySHA256: "", warnings: [],
            error: nil, memPeakBytes: nil, cpuUserMs: nil, cpuSysMs: nil,
            sandbox: .init(userNamespace: true, cgroups: "v2", network: "proxy", seccomp: true), network: nil)
        let consent = RunConsent(approval: record, args: args ?? vectors.statement.args, createdAt: 1, approvedAt: 1, startedAt: 1, finishedAt: 2)
        return ResultClaims(run: run, requestId: vectors.statement.subject, approvedBy: "human", approvalDetail: nil, consent: consent)
    }

    func failed(_ result: ResultClaims) -> [String] { ConsentVerifier.verify(result: result).checks.filter { !$0.passed }.map(\.name) }

    @Test("The vector's record verifies against its own run, and the summary names the approver")
    func verifies() throws {
        let verdict = ConsentVerifier.verify(result: try result())
        #expect(verdict.checks.allSatisfy { $0.passed }, "\(verdict.checks)")
        #expect(verdict.summary.hasPrefix("Alice (passkey \(vectors.es256.credential_id)) approved once for exec_0123456789abcdef"))
    }

    @Test("Other args than approved, an edited statement, or a passkey record presented as trusted code fail by name")
    func refusals() throws {
        #expect(failed(try result(args: ["REPO": "someone-else/repo"])) == ["consent_args"])
        var edited = vectors.statement
        edited.level = "trust_code"
        #expect(failed(try result(statement: edited)) == ["consent_digest", "consent_signature"])
        #expect(failed(try result(method: .trustedCode)) == ["consent_code"])
    }
}

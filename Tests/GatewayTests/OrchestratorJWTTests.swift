import Foundation
import Gateway
import JWTKit
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

struct TestClaims: JWTPayload {
    var tenant_id: String
    var plan: String
    var iat: IssuedAtClaim
    var exp: ExpirationClaim
    func verify(using algorithm: some JWTAlgorithm) throws {}
}

@Suite("Orchestrator JWTs (HS256)", .serialized, .timeLimit(.minutes(2)))
struct OrchestratorJWTTests {
    static let secret = "an-orchestrator-secret-of-at-least-32-bytes"

    func sign(_ claims: TestClaims, secret: String = Self.secret) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    func claims(_ tenant: String, expiresIn seconds: Double = 600) -> TestClaims {
        TestClaims(tenant_id: tenant, plan: "pro", iat: .init(value: Date()), exp: .init(value: Date().addingTimeInterval(seconds)))
    }

    @Test("A valid token authenticates its tenant; the orchestrator's approval URL is used")
    func valid() async throws {
        let daemon = try await LiveDaemon.start { $0.jwtSecret = Self.secret }
        defer { Task { await daemon.stop() } }
        let token = try await sign(claims("orch-tenant-1"))
        let client = daemon.client(token)
        let me = try await client.me()
        #expect(me.tenantId == "orch-tenant-1" && me.authentication == "jwt" && me.plan == "pro")
        let reply = try await daemon.raw(
            "POST", "/execute", body: try JSONEncoder().encode(ExecuteRequest(skillCode: hello)),
            headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json", "X-Tenant-ID": "orch-tenant-1", "X-Orchestrator-URL": "https://orchestrator.example/"])
        let status = try JSONDecoder().decode(ExecutionStatus.self, from: Data(reply.body.utf8))
        #expect(status.approvalUrl?.hasPrefix("https://orchestrator.example/t/orch-tenant-1/approve/\(status.requestId)?token=") == true)
    }

    @Test("Expired, wrongly signed, unsigned and mismatched tokens are refused")
    func refused() async throws {
        let daemon = try await LiveDaemon.start { $0.jwtSecret = Self.secret }
        defer { Task { await daemon.stop() } }
        let expired = try await sign(claims("t1", expiresIn: -60))
        let forged = try await sign(claims("t1"), secret: "another-secret-another-secret-another")
        let header = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        let payload = Data(#"{"tenant_id":"t1","plan":"free","exp":9999999999}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        for token in [expired, forged, "\(header).\(payload).", "\(header).\(payload).c2ln"] {
            let reply = try await daemon.raw("GET", "/me", headers: ["Authorization": "Bearer \(token)"])
            #expect(reply.status == 401, "\(reply.body)")
        }
        let good = try await sign(claims("t1"))
        let mismatch = try await daemon.raw("GET", "/me", headers: ["Authorization": "Bearer \(good)", "X-Tenant-ID": "t2"])
        #expect(mismatch.status == 403 && mismatch.body.contains("X-Tenant-ID"))
        let badTenant = try await sign(claims("../../etc"))
        #expect(try await daemon.raw("GET", "/me", headers: ["Authorization": "Bearer \(badTenant)"]).status == 401)
    }
}

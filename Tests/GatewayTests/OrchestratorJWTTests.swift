import Crypto
import Foundation
import Gateway
import JWTKit
import OAuth3Client
import OAuth3Wire
import Store
import TestSupport
import Vault
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

    /// base64url without padding, as JWTs spell their segments.
    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A token built by hand: `header` and `payload` exactly as given, signed with HMAC-SHA256 under the
    /// real secret whatever the header claims, so only the header's own words can make it fail.
    static func handMade(header: String, payload: String, secret: String = secret) -> String {
        let input = base64URL(Data(header.utf8)) + "." + base64URL(Data(payload.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return input + "." + base64URL(Data(mac))
    }

    /// A payload for `tenant` expiring at `exp` (seconds since the epoch), or without `exp`.
    static func payload(_ tenant: String, exp: Int?) -> String {
        #"{"tenant_id":"\#(tenant)","plan":"pro""# + (exp.map { #","exp":\#($0)"# } ?? "") + "}"
    }

    static func inTenMinutes() -> Int { Int(Date().timeIntervalSince1970) + 600 }

    /// `GET /me` with `token`: the status and the error text.
    func me(_ daemon: LiveDaemon, _ token: String) async throws -> (status: Int, body: String) {
        let reply = try await daemon.raw("GET", "/me", headers: ["Authorization": "Bearer \(token)"])
        return (reply.status, reply.body)
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

    @Test("Only alg HS256, spelt exactly, passes: none, HS384, HS512, RS256 and a missing alg are refused over a valid HS256 signature")
    func onlyHS256() async throws {
        let daemon = try await LiveDaemon.start { $0.jwtSecret = Self.secret }
        defer { Task { await daemon.stop() } }
        let payload = Self.payload("orch-alg", exp: Self.inTenMinutes())
        // The control: the same hand-made signing with the right header is accepted, so each refusal below is the header's.
        let good = try await me(daemon, Self.handMade(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: payload))
        #expect(good.status == 200, "\(good.body)")

        let headers = [
            #"{"alg":"none","typ":"JWT"}"#, #"{"alg":"HS384","typ":"JWT"}"#, #"{"alg":"HS512"}"#, #"{"alg":"RS256","typ":"JWT"}"#,
            #"{"alg":"hs256"}"#, #"{"alg":"HS256 "}"#, #"{"alg":["HS256"]}"#, #"{"typ":"JWT"}"#,
        ]
        for header in headers {
            let reply = try await me(daemon, Self.handMade(header: header, payload: payload))
            #expect(reply.status == 401 && reply.body.contains("alg") && reply.body.contains("only HS256"), "\(header): \(reply.status) \(reply.body)")
        }
        // alg none with an empty or a garbage signature: refused at the header, before any signature is looked at.
        let unsigned = Self.base64URL(Data(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + Self.base64URL(Data(payload.utf8))
        for token in [unsigned + ".", unsigned + ".c2lnbmF0dXJl"] {
            let reply = try await me(daemon, token)
            #expect(reply.status == 401 && reply.body.contains("alg 'none' is not accepted"), "\(reply.body)")
        }
    }

    @Test("A header that is not strict base64url JSON, or that asks for critical extensions, is refused naming the header")
    func malformedHeaders() async throws {
        let daemon = try await LiveDaemon.start { $0.jwtSecret = Self.secret }
        defer { Task { await daemon.stop() } }
        let payload = Self.base64URL(Data(Self.payload("orch-h", exp: Self.inTenMinutes()).utf8))
        let header = Self.base64URL(Data(#"{"alg":"HS256"}"#.utf8))
        let cases: [(String, String)] = [
            (Self.base64URL(Data(#"["HS256"]"#.utf8)) + "." + payload + ".x", "not a JSON object"),
            (Self.base64URL(Data(#""HS256""#.utf8)) + "." + payload + ".x", "not a JSON object"),
            (Self.base64URL(Data(#"{"alg":"HS256""#.utf8)) + "." + payload + ".x", "not a JSON object"),
            ("eyJ!bGciOiJIUzI1NiJ9." + payload + ".x", "not base64url"),
            (header + "==." + payload + ".x", "not base64url"),  // padding
            (header + "+." + payload + ".x", "not base64url"),  // the standard alphabet
            ("." + payload + ".x", "not base64url"),
        ]
        for (token, message) in cases {
            let reply = try await me(daemon, token)
            #expect(reply.status == 401 && reply.body.contains(message), "\(token): \(reply.body)")
        }
        let critical = try await me(daemon, Self.handMade(header: #"{"alg":"HS256","crit":["exp"],"exp":1}"#, payload: Self.payload("orch-h", exp: Self.inTenMinutes())))
        #expect(critical.status == 401 && critical.body.contains("crit"), "\(critical.body)")
    }

    @Test("exp is required, must be ahead, and at most the configured lifetime ahead, on the daemon's injected clock")
    func lifetime() async throws {
        let start: Int64 = 1_900_000_000_000  // 2030, far from the machine's own time: only the injected clock counts
        let clock = ManualClock(start: start)
        let daemon = try await LiveDaemon.start(clock: clock) {
            $0.jwtSecret = Self.secret
            $0.jwtMaxLifetimeSeconds = 3600
        }
        defer { Task { await daemon.stop() } }
        let now = Int(start / 1000)
        let header = #"{"alg":"HS256","typ":"JWT"}"#

        let eternal = try await me(daemon, Self.handMade(header: header, payload: Self.payload("orch-life", exp: nil)))
        #expect(eternal.status == 401 && eternal.body.contains("exp is required"), "\(eternal.body)")

        let twoHours = Self.handMade(header: header, payload: Self.payload("orch-life", exp: now + 7200))
        let tooLong = try await me(daemon, twoHours)
        #expect(tooLong.status == 401 && tooLong.body.contains("exp is 7200 s ahead") && tooLong.body.contains("within 3600 s"), "\(tooLong.body)")

        let halfHour = Self.handMade(header: header, payload: Self.payload("orch-life", exp: now + 1800))
        #expect(try await me(daemon, halfHour).status == 200)

        clock.advance(seconds: 5400)  // 90 minutes later
        let expired = try await me(daemon, halfHour)
        #expect(expired.status == 401 && expired.body.contains("expired 3600 s ago"), "\(expired.body)")
        let nowWithinReach = try await me(daemon, twoHours)  // 30 minutes ahead of the moved clock
        #expect(nowWithinReach.status == 200, "\(nowWithinReach.body)")
    }

    @Test("With the default lifetime, a token that expires more than 24 hours ahead is refused")
    func defaultLifetime() async throws {
        let daemon = try await LiveDaemon.start { $0.jwtSecret = Self.secret }
        defer { Task { await daemon.stop() } }
        let day = try await me(daemon, try await sign(claims("orch-day", expiresIn: 23 * 3600)))
        #expect(day.status == 200, "\(day.body)")
        let longer = try await me(daemon, try await sign(claims("orch-day", expiresIn: 25 * 3600)))
        #expect(longer.status == 401 && longer.body.contains("within 86400 s"), "\(longer.body)")
    }

    @Test("A JWT never names an API-key account: not a signup's tenant_ id, nor any tenant holding an API key")
    func tenantsLiveApart() async throws {
        let daemon = try await LiveDaemon.start { $0.jwtSecret = Self.secret }
        defer { Task { await daemon.stop() } }
        let (_, signedUp) = try await daemon.tenant()
        #expect(signedUp.hasPrefix("tenant_"))
        for tenant in [signedUp, "tenant_orchestrator", "TENANT_abc"] {
            let reply = try await me(daemon, try await sign(claims(tenant)))
            #expect(reply.status == 403 && reply.body.contains("may not start with 'tenant_'"), "\(tenant): \(reply.body)")
        }

        // An API-key account whose id lacks the prefix (made straight in the database): the store refuses it.
        let store = try Store.open(path: daemon.dataDirectory + "/enclave.sqlite")
        // Written with the daemon's row key, as an older daemon would have (a row without its MAC is refused).
        _ = try await store.protectRows(with: daemon.service.vault.derivedKey(for: JobService.rowKeyPurpose), at: 0)
        let key = "oauth3_legacy-\(UUID().uuidString)"
        _ = try await store.createTenant(
            id: "acme-legacy", name: "legacy", email: nil, apiKeyHash: Data(SHA256.hash(data: Data(key.utf8))), at: 0)
        let named = try await me(daemon, try await sign(claims("acme-legacy")))
        #expect(named.status == 403 && named.body.contains("belongs to an API-key account"), "\(named.body)")
        let account = try await daemon.client(key).me()
        #expect(account.tenantId == "acme-legacy" && account.authentication == "api_key" && account.plan == "free")  // the JWT's plan did not stick

        // A JWT tenant is still made on first sight.
        let fresh = try await daemon.client(try await sign(claims("orch-fresh"))).me()
        #expect(fresh.tenantId == "orch-fresh" && fresh.authentication == "jwt")
    }

    @Test("serve refuses a token lifetime that is not a positive number of seconds, from the flag or the variable, before starting")
    func lifetimeConfiguration() async throws {
        let flag = try await Fixture.execute(Fixture.enclave, ["serve", "--jwt-max-lifetime", "0"])
        #expect(flag.status != 0 && flag.err.contains("--jwt-max-lifetime 0 is not a positive number of seconds"), "\(flag.err)")
        let variable = try await Fixture.execute(
            Fixture.enclave, ["serve"], environment: ["PATH": "/usr/bin:/bin", ServeEnvironment.jwtMaxLifetime.rawValue: "1h"])
        #expect(variable.status != 0 && variable.err.contains("OAUTH3_JWT_MAX_LIFETIME '1h' is not a positive number"), "\(variable.err)")
    }
}

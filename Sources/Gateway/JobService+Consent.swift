import Consent
import Foundation
import OAuth3Wire
import SkillManifest
import Store

extension JobService {
    /// How long a page may take between asking for a challenge and answering it.
    static let challengeLifetimeMilliseconds: Int64 = 5 * 60 * 1000

    /// The WebAuthn relying party: the host of the public URL, and its origin. WebAuthn refuses IP
    /// addresses as RP ids, so a loopback address (the default, `http://127.0.0.1:8787`) is served as
    /// `localhost`: passkeys work on `http://localhost:PORT` pages, the one plain-HTTP origin browsers allow.
    var relyingParty: RelyingParty {
        let base = links.value
        guard let url = URL(string: base), var host = url.host else { return RelyingParty(id: "localhost", origin: base) }
        if host == "127.0.0.1" || host == "::1" || host == "[::1]" { host = "localhost" }
        let port = url.port.map { ":\($0)" } ?? ""
        return RelyingParty(id: host, origin: "\(url.scheme ?? "https")://\(host)\(port)")
    }

    /// The statement a decision on `job` commits to, from what the page sends (the same values come
    /// with the challenge and with the decision, so any difference fails the comparison).
    func decisionStatement(job: JobRecord, action: String, level: String, supplied: [String], options: ScopeOptions?, nonce: String, issuedAt: Int64) async throws -> ConsentStatement {
        let request = try await approvalRequest(for: job)
        let args = try JSONDecoder().decode([String: String].self, from: Data((job.argsJSON ?? "{}").utf8))
        let isScope = job.kind == "scope"
        let expiresAt = options?.expiresInMinutes.map { issuedAt + Int64($0) * 60_000 }
        return ConsentStatement(
            purpose: "decide", tenantId: job.tenantId, subject: job.id, decision: action, level: isScope ? "scope" : level,
            codeSha256: job.codeSHA256, hosts: request.networks, secrets: request.secrets, suppliedSecrets: supplied.sorted(), args: args,
            timeoutSeconds: request.timeoutSeconds, anyCode: isScope ? (options?.anyCode ?? false) : nil,
            expiresAt: action == "approve" && (isScope || level == "trust_code") ? expiresAt : nil,
            maxRuns: action == "approve" && (isScope || level == "trust_code") ? options?.maxRuns : nil, nonce: nonce, issuedAt: issuedAt)
    }

    /// Issues a single-use challenge committing to `statement`, answerable by the tenant's approvers.
    func issueChallenge(for statement: ConsentStatement) async throws -> ChallengeReply {
        try await store.issueChallenge(ConsentChallengeRecord(
            nonce: statement.nonce, tenantId: statement.tenantId, subject: statement.subject, statementJSON: try JSONBody.string(statement),
            expiresAt: statement.issuedAt + Self.challengeLifetimeMilliseconds), at: statement.issuedAt)
        let approvers = try await store.approvers(tenant: statement.tenantId)
        return ChallengeReply(
            nonce: statement.nonce, challenge: Base64URL.encode(ConsentDigest.of(statement)), rpId: relyingParty.id, statement: statement,
            allowCredentials: approvers.map(\.credentialId), timeoutMilliseconds: Int(Self.challengeLifetimeMilliseconds))
    }

    /// `POST /approve/:id/challenge`: the statement the approver's passkey is about to sign.
    func approvalChallenge(_ request: ChallengeRequest, job id: String) async throws -> ChallengeReply {
        let job = try await jobForApproval(id: id, token: request.token)
        guard job.status.awaitsHuman else { throw GatewayError.conflict("\(id) is \(job.status.rawValue): nothing to decide") }
        guard try await store.hasApprovers(tenant: job.tenantId) else {
            throw GatewayError.badRequest("this account has no approver passkey: decide with the approval link's token")
        }
        let (action, level) = try checkedDecision(action: request.action, level: request.level)
        let statement = try await decisionStatement(
            job: job, action: action, level: level, supplied: request.suppliedSecrets ?? [], options: request.options,
            nonce: Identifiers.hex(count: 32), issuedAt: clock.now())
        return try await issueChallenge(for: statement)
    }

    /// The action and level, checked: `approve`/`deny`, `once`/`trust_code`.
    func checkedDecision(action: String, level: String?) throws -> (String, String) {
        guard ["approve", "deny"].contains(action) else { throw GatewayError.badRequest("action must be 'approve' or 'deny', not '\(action)'") }
        let level = level ?? "once"
        guard ["once", "trust_code"].contains(level) else { throw GatewayError.badRequest("level must be 'once' or 'trust_code', not '\(level)'") }
        return (action, level)
    }

    /// Verifies a passkey's assertion over `expected` (rebuilt from what was submitted, with the nonce
    /// and time of the challenge it names): the challenge is used up, must be this tenant's and this
    /// subject's, unexpired, and its stored statement must equal `expected` byte for byte; then the
    /// signature by one of the tenant's approvers. Returns the consent to record.
    func verifiedConsent(_ assertion: PasskeyAssertion?, tenant: String, subject: String, expected: (String, Int64) async throws -> ConsentStatement) async throws -> PasskeyConsent {
        guard let assertion else {
            throw GatewayError.forbidden("this account has approvers: deciding needs an approver's passkey on the approval page (the link's token only opens it)")
        }
        guard let challenge = try await store.consumeChallenge(nonce: assertion.nonce, at: clock.now()) else {
            throw GatewayError.forbidden("the passkey challenge is unknown, used or expired: ask for a new one")
        }
        guard challenge.tenantId == tenant, challenge.subject == subject else {
            throw GatewayError.forbidden("the passkey challenge was issued for another request")
        }
        let stored = try JSONDecoder().decode(ConsentStatement.self, from: Data(challenge.statementJSON.utf8))
        let statement = try await expected(stored.nonce, stored.issuedAt)
        guard ConsentDigest.canonicalBytes(statement) == ConsentDigest.canonicalBytes(stored) else {
            throw GatewayError.forbidden("the passkey signed a different decision (level, options, secrets or arguments differ from this one)")
        }
        guard let approver = try await store.approvers(tenant: tenant).first(where: { $0.credentialId == assertion.credentialId }) else {
            throw GatewayError.forbidden("passkey \(assertion.credentialId) is not an approver of this account")
        }
        guard let authenticatorData = Base64URL.decode(assertion.authenticatorData), let clientData = Base64URL.decode(assertion.clientDataJSON),
            let signature = Base64URL.decode(assertion.signature)
        else { throw GatewayError.badRequest("passkey fields must be base64url") }
        let key: CredentialPublicKey
        do { key = try CredentialPublicKey(cose: Array(approver.publicKey)) } catch { throw GatewayError.internalError("stored approver key: \(error)") }
        let digest = ConsentDigest.of(statement)
        switch relyingParty.verifyAssertion(
            authenticatorData: authenticatorData, clientDataJSON: clientData, signature: signature, challenge: digest, publicKey: key,
            storedCount: UInt32(clamping: approver.signCount))
        {
        case .failure(let failure): throw GatewayError.forbidden("passkey assertion refused: \(failure.reason)")
        case .success(let verified): try await store.updateSignCount(credentialId: approver.credentialId, to: Int64(verified.signCount))
        }
        return PasskeyConsent(
            statement: statement, digest: digest.map { String(format: "%02x", $0) }.joined(), credentialId: approver.credentialId,
            publicKey: Base64URL.encode(approver.publicKey), algorithm: approver.algorithm, approverName: approver.name,
            authenticatorData: assertion.authenticatorData, clientDataJSON: assertion.clientDataJSON, signature: assertion.signature)
    }
}

import Consent
import Foundation
import OAuth3Wire
import Store

/// Approvers: passkeys enrolled on the daemon's own pages. A browser signup creates the account with its
/// first approver; an account made by the SDK's `POST /signup` is claimed by enrolling the first one with
/// its agent key (trust on first use); after that only an approver enrols, revokes or untrusts.
extension JobService {
    /// `POST /signup/passkey/challenge`: a registration challenge for a new account.
    func signupChallenge(name: String?) async throws -> ChallengeReply {
        guard configuration.signupOpen else { throw GatewayError.forbidden("signup is closed on this enclave") }
        let name = try checkedName(name)
        return try await registrationChallenge(tenant: nil, name: name)
    }

    /// `POST /signup/passkey`: verifies the enrolment and creates the account with it as first approver.
    func signupWithPasskey(_ enrolment: PasskeyEnrolment) async throws -> SignupResponse {
        guard configuration.signupOpen else { throw GatewayError.forbidden("signup is closed on this enclave") }
        let (statement, registration) = try await verifiedRegistration(enrolment, tenant: nil)
        let tenant = Identifiers.make("tenant_"), key = Identifiers.apiKey(), now = clock.now()
        let name = statement.args["name"] ?? "approver"
        try await store.createTenant(
            id: tenant, name: name, apiKeyHash: Identifiers.sha256(key), approver: approverRecord(registration, tenant: tenant, name: name, at: now), at: now)
        return SignupResponse(tenantId: tenant, apiKey: key)
    }

    /// `POST /approvers/challenge`: a registration challenge for another approver of the caller's account.
    func enrolChallenge(name: String?, caller: Caller) async throws -> ChallengeReply {
        try await registrationChallenge(tenant: caller.tenantId, name: try checkedName(name))
    }

    /// `POST /approvers`: the first approver of an account claims it (trust on first use: whoever holds
    /// the agent key first); later ones need an existing approver's passkey over `enrol_approver`.
    func enrol(_ enrolment: PasskeyEnrolment, caller: Caller) async throws -> ApproverInfo {
        let hasApprovers = try await store.hasApprovers(tenant: caller.tenantId)
        if hasApprovers && enrolment.passkey == nil {
            throw GatewayError.forbidden("this account has approvers: enrolling another needs an existing approver's passkey (the agent key alone cannot)")
        }
        let (statement, registration) = try await verifiedRegistration(enrolment, tenant: caller.tenantId)
        let credential = Base64URL.encode(registration.credentialId)
        if hasApprovers {
            _ = try await ownerConsent(enrolment.passkey, caller: caller, purpose: "enrol_approver", subject: credential)
        }
        let record = approverRecord(registration, tenant: caller.tenantId, name: statement.args["name"] ?? "approver", at: clock.now())
        guard try await store.addApprover(record, onlyIfFirst: !hasApprovers, at: clock.now()) else {
            throw GatewayError.forbidden("this account was claimed meanwhile: an approver must enrol new ones")
        }
        return ApproverInfo(credentialId: credential, name: record.name, algorithm: record.algorithm, createdAt: record.createdAt)
    }

    func approvers(caller: Caller) async throws -> [ApproverInfo] {
        try await store.approvers(tenant: caller.tenantId).map {
            ApproverInfo(credentialId: $0.credentialId, name: $0.name, algorithm: $0.algorithm, createdAt: $0.createdAt)
        }
    }

    /// `POST /account/challenge`: the statement for an owner's action (`enrol_approver`, `revoke_approver`,
    /// `revoke_trusted_code`) on `subject`.
    func ownerChallenge(purpose: String, subject: String, caller: Caller) async throws -> ChallengeReply {
        guard ["enrol_approver", "revoke_approver", "revoke_trusted_code", "replace_agent_key"].contains(purpose) else {
            throw GatewayError.badRequest("purpose must be enrol_approver, revoke_approver, revoke_trusted_code or replace_agent_key, not '\(purpose)'")
        }
        guard try await store.hasApprovers(tenant: caller.tenantId) else {
            throw GatewayError.badRequest("this account has no approver: its agent key does this alone")
        }
        return try await issueChallenge(for: ConsentStatement(
            purpose: purpose, tenantId: caller.tenantId, subject: subject, nonce: Identifiers.hex(count: 32), issuedAt: clock.now()))
    }

    /// For an account with approvers, an owner's action needs an approver's assertion over it; for one
    /// without, the agent key suffices (there is nobody else to ask).
    @discardableResult
    func ownerConsent(_ assertion: PasskeyAssertion?, caller: Caller, purpose: String, subject: String) async throws -> PasskeyConsent? {
        guard try await store.hasApprovers(tenant: caller.tenantId) else { return nil }
        guard assertion != nil else {
            throw GatewayError.forbidden("this account has approvers: \(purpose.replacingOccurrences(of: "_", with: " ")) needs an approver's passkey (POST /account/challenge, then send `passkey`)")
        }
        return try await verifiedConsent(assertion, tenant: caller.tenantId, subject: subject) { nonce, issuedAt in
            ConsentStatement(purpose: purpose, tenantId: caller.tenantId, subject: subject, nonce: nonce, issuedAt: issuedAt)
        }
    }

    func revokeApprover(_ credential: String, passkey: PasskeyAssertion?, caller: Caller) async throws {
        try await ownerConsent(passkey, caller: caller, purpose: "revoke_approver", subject: credential)
        guard try await store.revokeApprover(credentialId: credential, tenant: caller.tenantId, at: clock.now()) else {
            throw GatewayError.notFound("approver \(credential)")
        }
    }

    /// `POST /account/agent-key`: revokes the agent key and issues a new one (an approver's passkey over
    /// `replace_agent_key` with the tenant id as subject, for an account with approvers).
    func replaceAgentKey(passkey: PasskeyAssertion?, caller: Caller) async throws -> SignupResponse {
        guard caller.method == .apiKey else { throw GatewayError.forbidden("an orchestrator's tenant has no agent key to replace") }
        try await ownerConsent(passkey, caller: caller, purpose: "replace_agent_key", subject: caller.tenantId)
        let key = Identifiers.apiKey()
        try await store.replaceAPIKey(tenant: caller.tenantId, hash: Identifiers.sha256(key), at: clock.now())
        return SignupResponse(tenantId: caller.tenantId, apiKey: key)
    }

    func trusted(caller: Caller) async throws -> [TrustedCodeInfo] {
        try await store.trustedCode(tenant: caller.tenantId).map {
            TrustedCodeInfo(codeSha256: $0.codeSHA256, createdAt: $0.createdAt, expiresAt: $0.expiresAt, maxRuns: $0.maxRuns, runs: $0.runs, byPasskey: $0.consentJSON != nil)
        }
    }

    func untrust(_ hash: String, passkey: PasskeyAssertion?, caller: Caller) async throws {
        try await ownerConsent(passkey, caller: caller, purpose: "revoke_trusted_code", subject: hash)
        guard try await store.untrust(codeSHA256: hash, tenant: caller.tenantId, at: clock.now()) else { throw GatewayError.notFound("trusted code \(hash)") }
    }

    private func checkedName(_ name: String?) throws -> String {
        let name = (name ?? "").trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(name.count), !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.properties.generalCategory == .format }) else {
            throw GatewayError.badRequest("name must be 1–100 printable characters")
        }
        return name
    }

    private func registrationChallenge(tenant: String?, name: String) async throws -> ChallengeReply {
        let user = Identifiers.hex(count: 16), nonce = Identifiers.hex(count: 32)
        let statement = ConsentStatement(purpose: "register", tenantId: tenant ?? "", subject: user, args: ["name": name], nonce: nonce, issuedAt: clock.now())
        try await store.issueChallenge(ConsentChallengeRecord(
            nonce: nonce, tenantId: tenant, subject: user, statementJSON: try JSONBody.string(statement), expiresAt: statement.issuedAt + Self.challengeLifetimeMilliseconds), at: statement.issuedAt)
        var existing: [String] = []
        if let tenant { existing = try await store.approvers(tenant: tenant).map(\.credentialId) }
        return ChallengeReply(
            nonce: nonce, challenge: Base64URL.encode(ConsentDigest.of(statement)), rpId: relyingParty.id, statement: nil, allowCredentials: existing,
            userId: Base64URL.encode(Array(user.utf8)), userName: name, timeoutMilliseconds: Int(Self.challengeLifetimeMilliseconds))
    }

    private func verifiedRegistration(_ enrolment: PasskeyEnrolment, tenant: String?) async throws -> (ConsentStatement, RelyingParty.Registration) {
        guard let challenge = try await store.consumeChallenge(nonce: enrolment.nonce, at: clock.now()), challenge.tenantId == tenant else {
            throw GatewayError.forbidden("the enrolment challenge is unknown, used, expired or for another account: start again")
        }
        let statement = try JSONDecoder().decode(ConsentStatement.self, from: Data(challenge.statementJSON.utf8))
        guard statement.purpose == "register" else { throw GatewayError.forbidden("that challenge is not an enrolment's") }
        guard let attestation = Base64URL.decode(enrolment.attestationObject), let clientData = Base64URL.decode(enrolment.clientDataJSON) else {
            throw GatewayError.badRequest("attestation_object and client_data_json must be base64url")
        }
        switch relyingParty.verifyRegistration(attestationObject: attestation, clientDataJSON: clientData, challenge: ConsentDigest.of(statement)) {
        case .failure(let failure): throw GatewayError.forbidden("passkey enrolment refused: \(failure.reason)")
        case .success(let registration): return (statement, registration)
        }
    }

    private func approverRecord(_ registration: RelyingParty.Registration, tenant: String, name: String, at now: Int64) -> ApproverRecord {
        ApproverRecord(
            credentialId: Base64URL.encode(registration.credentialId), tenantId: tenant, name: name, publicKey: Data(registration.publicKey.cose),
            algorithm: registration.publicKey.algorithm, signCount: Int64(registration.signCount), createdAt: now)
    }
}

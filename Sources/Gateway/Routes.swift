import Attestation
import DCAPVerifier
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OAuth3Wire
import Sandbox
import SkillManifest
import Store
import Vault

/// The HTTP API: the routes of enclave 0.1.x that the OAuth3 SDK uses, mapped onto ``JobService``.
struct Routes {
    let service: JobService
    let authenticator: Authenticator
    let health: @Sendable () async -> HealthReport
    let readiness: Readiness

    func register(on router: Router<GatewayContext>) {
        router.get("/healthz") { _, _ in try JSONBody.response(await health()) }
        router.get("/readyz") { _, _ in
            let report = await readiness.report()
            return try JSONBody.response(report, status: report.isReady ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            let text = service.metrics.exposition(
                queued: (try? await service.store.queuedJobCount()) ?? 0, runningNow: await service.scheduler.runningCount,
                heldLongPolls: await service.events.heldTotal, pool: await service.runner.pool?.counts)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        router.get("/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        router.post("/signup") { request, context in
            let body = try await request.collectedBodyOrEmpty(context: context)
            let signup = body.isEmpty ? SignupRequest() : try RequestBody.decode(SignupRequest.self, from: body)
            let warnings = body.isEmpty ? [] : RequestBody.unknownFields(of: SignupRequest.self, in: body)
            return try JSONBody.response(Warned(try await service.signup(signup), warnings: warnings), status: .created)
        }
        router.get("/approve/:id") { request, context in try await approvalPage(request, context) }
        router.post("/approve/:id/challenge") { request, context in
            let body = try await request.decodeJSON(ChallengeRequest.self, context: context)
            return try JSONBody.response(try await service.approvalChallenge(body, job: try context.parameters.require("id")))
        }
        router.get("/signup") { _, _ in html(AccountPages.signup()) }
        router.get("/claim") { _, _ in html(AccountPages.claim()) }
        router.post("/signup/passkey/challenge") { request, context in
            try JSONBody.response(try await service.signupChallenge(name: try await request.decodeJSON(SignupRequest.self, context: context).name))
        }
        router.post("/signup/passkey") { request, context in
            try JSONBody.response(try await service.signupWithPasskey(try await request.decodeJSON(PasskeyEnrolment.self, context: context)), status: .created)
        }
        router.get("/v1/attestation") { request, _ in
            let nonceText = request.uri.queryParameters.get("nonce") ?? ""
            guard let nonce = bytes(fromHex: nonceText), (8...64).contains(nonce.count) else {
                throw GatewayError.badRequest("nonce must be 8 to 64 bytes of hex (?nonce=…)")
            }
            let auditHead = try await service.store.auditHead()
            do {
                return try JSONBody.response(try await service.attestor.freshAttestation(nonce: nonce, auditHead: auditHead))
            } catch {
                throw GatewayError.unavailable("the guest agent could not quote: \(error)")
            }
        }
        router.post("/approve/:id") { request, context in try await approvalDecision(request, context) }

        let api = router.group().add(middleware: AuthMiddleware(authenticator: authenticator))
        api.post("/execute") { request, context in
            let caller = try context.requireCaller()
            let (body, warnings) = try await request.decodeRequest(ExecuteRequest.self, context: context)
            switch try await service.submit(body, caller: caller) {
            case .status(let status): return try JSONBody.response(Warned(status, warnings: warnings), status: .created)
            case .dryRun(let verdict): return try JSONBody.response(Warned(verdict, warnings: warnings))
            }
        }
        api.get("/execute/:id/status") { request, context in
            let caller = try context.requireCaller()
            let query = request.uri.queryParameters
            let wait = ["true", "1"].contains(query.get("wait") ?? "")
            let limit = service.configuration.longPollSeconds
            let seconds = min(max(query.get("timeout").flatMap(Int.init) ?? limit, 1), limit)
            let status = try await service.status(id: try context.parameters.require("id"), caller: caller, wait: wait, timeout: .seconds(seconds))
            return try JSONBody.response(status)
        }
        api.post("/scope") { request, context in
            let caller = try context.requireCaller()
            let (body, warnings) = try await request.decodeRequest(ScopeRequest.self, context: context)
            return try JSONBody.response(Warned(try await service.submitScope(body, caller: caller), warnings: warnings), status: .created)
        }
        api.get("/sessions") { _, context in try JSONBody.response(try await service.sessions(caller: try context.requireCaller())) }
        api.get("/sessions/:id") { _, context in
            try JSONBody.response(try await service.session(id: try context.parameters.require("id"), caller: try context.requireCaller()))
        }
        api.delete("/sessions/:id") { _, context in
            let caller = try context.requireCaller()
            let id = try context.parameters.require("id")
            guard try await service.store.revokeSession(id: id, tenant: caller.tenantId, at: service.clock.now()) else {
                throw GatewayError.notFound("session \(id)")
            }
            return try JSONBody.response(["deleted": "true", "session_id": id])
        }
        api.post("/approvers/challenge") { request, context in
            let body = try await request.decodeJSON(SignupRequest.self, context: context)
            return try JSONBody.response(try await service.enrolChallenge(name: body.name, caller: try context.requireCaller()))
        }
        api.post("/approvers") { request, context in
            let enrolment = try await request.decodeJSON(PasskeyEnrolment.self, context: context)
            return try JSONBody.response(try await service.enrol(enrolment, caller: try context.requireCaller()), status: .created)
        }
        api.get("/approvers") { _, context in try JSONBody.response(["approvers": try await service.approvers(caller: try context.requireCaller())]) }
        api.delete("/approvers/:id") { request, context in
            let caller = try context.requireCaller()
            let id = try context.parameters.require("id")
            try await service.revokeApprover(id, passkey: try await ownerPasskey(request, context), caller: caller)
            return try JSONBody.response(["revoked": id])
        }
        api.post("/account/challenge") { request, context in
            let body = try await request.decodeJSON(OwnerChallengeRequest.self, context: context)
            return try JSONBody.response(try await service.ownerChallenge(purpose: body.purpose, subject: body.subject, caller: try context.requireCaller()))
        }
        api.post("/account/agent-key") { request, context in
            let caller = try context.requireCaller()
            return try JSONBody.response(try await service.replaceAgentKey(passkey: try await ownerPasskey(request, context), caller: caller), status: .created)
        }
        api.get("/trusted") { _, context in try JSONBody.response(["trusted": try await service.trusted(caller: try context.requireCaller())]) }
        api.delete("/trusted/:sha256") { request, context in
            let caller = try context.requireCaller()
            let hash = try context.parameters.require("sha256")
            try await service.untrust(hash, passkey: try await ownerPasskey(request, context), caller: caller)
            return try JSONBody.response(["revoked": hash])
        }
        api.get("/me") { _, context in try JSONBody.response(try await service.me(try context.requireCaller())) }
        api.get("/history") { request, context in
            let limit = min(max(request.uri.queryParameters.get("limit").flatMap(Int.init) ?? 50, 1), 500)
            return try JSONBody.response(try await service.history(caller: try context.requireCaller(), limit: limit))
        }
        api.get("/secrets") { _, context in
            let caller = try context.requireCaller()
            return try JSONBody.response(try await service.secretList(tenant: caller.tenantId))
        }
        api.put("/secrets/:name") { request, context in
            try await putSecret(name: try context.parameters.require("name"), request, context)
        }
        api.post("/secrets") { request, context in
            // enclave 0.1.x: {name, value} in the body.
            try await putSecret(name: nil, request, context)
        }
        api.delete("/secrets/:name") { _, context in
            let caller = try context.requireCaller()
            let name = try context.parameters.require("name")
            guard try await service.store.deleteSecret(name: name, tenant: caller.tenantId, at: service.clock.now()) else {
                throw GatewayError.notFound("secret \(name)")
            }
            return try JSONBody.response(["deleted": name])
        }
    }

    /// The optional `{passkey}` body of an owner's DELETE.
    private func ownerPasskey(_ request: Request, _ context: GatewayContext) async throws -> PasskeyAssertion? {
        let body = try await request.collectedBodyOrEmpty(context: context)
        guard !body.isEmpty else { return nil }
        return try RequestBody.decode(OwnerAction.self, from: body).passkey
    }

    private func putSecret(name: String?, _ request: Request, _ context: GatewayContext) async throws -> Response {
        let caller = try context.requireCaller()
        // An agent key must not choose the values an approver's account runs with (a secret of its own
        // in place of the person's): there, values are typed on the approval page and signed for.
        guard try await !service.store.hasApprovers(tenant: caller.tenantId) else {
            throw GatewayError.forbidden("this account has approvers: secret values are supplied on the approval page with an approver's passkey, not with the agent key")
        }
        let (body, warnings) = try await request.decodeRequest(SecretValue.self, context: context)
        guard let name = name ?? body.name else { throw GatewayError.badRequest("missing field 'name'") }
        if let bodyName = body.name, bodyName != name { throw GatewayError.badRequest("the body's name '\(bodyName)' differs from the path's '\(name)'") }
        let value: String
        switch (body.value, body.sealed) {
        case (let plain?, nil): value = plain
        case (nil, let sealed?):
            // Sealed to the enclave's HPKE key (GET /v1/attestation): whoever relayed it never saw it.
            guard let enc = bytes(fromHex: sealed.enc), let ciphertext = bytes(fromHex: sealed.ciphertext) else {
                throw GatewayError.badRequest("sealed.enc and sealed.ciphertext must be hex")
            }
            do {
                value = try service.attestor.openSealed(encapsulatedKey: enc, ciphertext: ciphertext, tenant: caller.tenantId, name: name, hosts: body.hosts)
            } catch {
                throw GatewayError.badRequest("\(error)")
            }
        default: throw GatewayError.badRequest("send exactly one of 'value' and 'sealed'")
        }
        let binding = try ValidatedBinding.validate(hosts: body.hosts, placement: body.placement)
        try await service.putSecret(name: name, value: value, tenant: caller.tenantId, binding: binding)
        try await service.releaseJobsWaitingForSecrets(tenant: caller.tenantId)
        var reply = ["name": name, "stored": "sealed"]
        if let binding { reply["bound_to"] = binding.hosts.map(\.description).joined(separator: ",") }
        return try JSONBody.response(Warned(reply, warnings: warnings))
    }

    /// `GET /approve/:id?token=`: JSON for an orchestrator's UI, or the page for a browser.
    private func approvalPage(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let token = request.uri.queryParameters.get("token")
        do {
            let job = try await service.jobForApproval(id: id, token: token)
            let details = try await service.approvalView(for: job)
            if request.prefersHTML { return html(ApprovalPage.render(details, token: token ?? "")) }
            return try JSONBody.response(details)
        } catch let error as GatewayError where request.prefersHTML {
            return html(ApprovalPage.error(error.body.error), status: error.status)
        }
    }

    /// `POST /approve/:id`: a JSON body, or the page's form.
    private func approvalDecision(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let isForm = request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true
        let (decision, warnings) = isForm
            ? (try FormDecision.parse(try await request.bodyText(context: context)), [])
            : try await request.decodeRequest(ApprovalDecision.self, context: context)
        do {
            let outcome = try await service.decide(decision, job: id)
            if isForm && request.prefersHTML || isForm && request.headers[.accept] == nil { return html(ApprovalPage.outcome(outcome)) }
            return try JSONBody.response(Warned(outcome, warnings: warnings))
        } catch let error as GatewayError where isForm {
            return html(ApprovalPage.error(error.body.error), status: error.status)
        }
    }

    private func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        for (name, value) in ApprovalPage.headers { headers[HTTPField.Name(name)!] = value }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The approval page's form: `token`, `decision` (`approve_once`, `trust_code`, `deny`) or
/// `action`/`level`, `secrets[NAME]` and `secret_hosts[NAME]` fields.
enum FormDecision {
    static func parse(_ body: String) throws -> ApprovalDecision {
        var fields: [String: String] = [:]
        var secrets: [String: String] = [:]
        var secretHosts: [String: [String]] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decode(parts[0]), value = parts.count > 1 ? decode(parts[1]) : ""
            if key.hasPrefix("secrets["), key.hasSuffix("]") {
                secrets[String(key.dropFirst(8).dropLast())] = value
            } else if key.hasPrefix("secret_hosts["), key.hasSuffix("]") {
                // Hosts separated by commas or spaces; empty means an unbound secret.
                let hosts = value.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
                if !hosts.isEmpty { secretHosts[String(key.dropFirst(13).dropLast())] = hosts }
            } else {
                fields[key] = value
            }
        }
        guard let token = fields["token"], !token.isEmpty else { throw GatewayError.badRequest("missing form field 'token'") }
        var action = fields["action"], level = fields["level"]
        switch fields["decision"] {
        case "approve_once": (action, level) = ("approve", "once")
        case "trust_code": (action, level) = ("approve", "trust_code")
        case "deny": action = "deny"
        case nil: break
        case let other?: throw GatewayError.badRequest("decision must be approve_once, trust_code or deny, not '\(other)'")
        }
        guard let action else { throw GatewayError.badRequest("missing form field 'action' (or 'decision')") }
        func count(_ field: String) throws -> Int? {
            guard let text = fields[field], !text.isEmpty else { return nil }
            guard let value = Int(text), value > 0 else { throw GatewayError.badRequest("form field '\(field)' must be a positive whole number, not '\(text)'") }
            return value
        }
        let options = ScopeOptions(anyCode: fields["any_code"] == "true" ? true : nil, expiresInMinutes: try count("expires_in_minutes"), maxRuns: try count("max_runs"))
        var decision = ApprovalDecision(
            token: token, action: action, level: level, secrets: secrets.isEmpty ? nil : secrets, options: options == ScopeOptions() ? nil : options)
        decision.secretHosts = secretHosts.isEmpty ? nil : secretHosts
        return decision
    }

    private static func decode(_ text: Substring) -> String {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
    }
}

extension Request {
    /// The body as bytes (possibly empty), within the size limit.
    func collectedBodyOrEmpty(context: GatewayContext) async throws -> ByteBuffer {
        do { return try await body.collect(upTo: context.maxUploadSize) } catch {
            throw GatewayError(.contentTooLarge, "request body is larger than \(context.maxUploadSize) bytes")
        }
    }
}

extension ByteBuffer {
    var isEmpty: Bool { readableBytes == 0 }
}

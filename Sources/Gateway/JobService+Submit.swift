import Foundation
import Logging
import OAuth3Wire
import Sandbox
import SkillManifest
import Store
import Vault

/// What `POST /execute` answers: a job's status, or a dry run's verdict.
enum SubmitReply: Sendable {
    case status(ExecutionStatus)
    case dryRun(DryRunResult)
}

extension JobService {
    /// Longest `skill_id`, and the most arguments and their sizes.
    static let maxSkillIdLength = 128, maxArguments = 32, maxArgumentBytes = 8192

    /// Validates and stores an execution request; approves it at once only for trusted code (and, with
    /// sessions, a fitting session policy). Every problem with the request is a 400 naming it.
    func submit(_ request: ExecuteRequest, caller: Caller) async throws -> SubmitReply {
        let (manifest, code) = try validateCode(request)
        let skillId = request.skillId ?? manifest.skill
        guard (1...Self.maxSkillIdLength).contains(skillId.utf8.count), !skillId.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw GatewayError.badRequest("skill_id must be 1–\(Self.maxSkillIdLength) printable characters")
        }
        if let asked = request.secrets {
            let undeclared = asked.filter { name in !manifest.secrets.contains { $0.rawValue == name } }
            if !undeclared.isEmpty {
                throw GatewayError.badRequest("secrets \(undeclared.joined(separator: ", ")) are not declared in the skill's @secrets header")
            }
        }
        try await checkBindings(manifest, tenant: caller.tenantId)
        let arguments = try validateArguments(request.args, manifest: manifest)
        let codeSHA256 = Identifiers.sha256Hex(Array(code.utf8))
        let decision = try await approvalDecision(manifest: manifest, codeSHA256: codeSHA256, sessionId: request.sessionId, caller: caller)
        let missing = try await missingSecrets(manifest, tenant: caller.tenantId)

        if request.dryRun == true {
            return .dryRun(DryRunResult(
                wouldAutoApprove: decision.approvedBy != nil && missing.isEmpty, reason: decision.reason, sessionId: request.sessionId,
                policyViolations: decision.violations.isEmpty ? nil : decision.violations,
                policyGaps: .init(newSecrets: decision.newSecrets, newNetworks: decision.newNetworks), missingSecrets: missing))
        }

        let now = clock.now()
        let id = Identifiers.make("exec_")
        let token = approvalTokens.token(for: id)
        var job = JobRecord(
            id: id, tenantId: caller.tenantId, kind: "execute", skillId: skillId, code: code,
            codeSHA256: codeSHA256, argsJSON: try JSONBody.string(arguments), scopeJSON: nil, sessionId: request.sessionId,
            status: .pending, tokenHash: Identifiers.sha256(token),
            tokenExpiresAt: now + Int64(configuration.approvalTokenLifetimeSeconds) * 1000, createdAt: now)
        if let approvedBy = decision.approvedBy {
            job.approvedBy = approvedBy
            job.approvalDetail = decision.detail
            job.approvedAt = now
            job.consentJSON = try decision.record.map { try JSONBody.string($0) }
            job.status = missing.isEmpty ? .approved : .awaitingSecrets
        }
        // One transaction checks every limit and stores the job; an approved job is queued by that insert.
        try await admit(job)
        if job.status == .approved { try await noteSessionUse(job) }
        logger.info("job accepted", metadata: ["job": "\(job.id)", "tenant": "\(caller.tenantId)", "status": "\(job.status.rawValue)", "approved_by": "\(job.approvedBy ?? "-")"])

        var status = ExecutionStatus(requestId: job.id, status: job.status.rawValue)
        status.sessionId = request.sessionId
        status.statusUrl = statusURL(job: job.id)
        status.skillId = skillId
        status.codeSha256 = codeSHA256
        status.createdAt = now
        status.approvedBy = job.approvedBy
        if job.status != .approved {
            status.approvalUrl = approvalURL(job: job.id, token: token, caller: caller)
        }
        if !missing.isEmpty { status.missingSecrets = missing }
        if !decision.violations.isEmpty { status.policyViolations = decision.violations }
        status.message = switch job.status {
        case .approved: decision.approvedBy == "trusted_code" ? "Auto-approved (trusted code)" : "Auto-approved (session policy)"
        case .awaitingSecrets: "Approved, but secrets \(missing.joined(separator: ", ")) have no value yet: supply them on the approval page or with PUT /secrets/:name"
        default: "Waiting for a human to approve at approval_url"
        }
        return .status(status)
    }

    /// The skill's code and its validated header.
    func validateCode(_ request: ExecuteRequest) throws -> (SkillManifest, String) {
        if request.skillUrl != nil {
            throw GatewayError.badRequest(
                "skill_url is not supported: fetch the code yourself and send it as skill_code (the approver is shown, and approves, exactly that code)")
        }
        guard let code = request.skillCode, !code.isEmpty else {
            throw GatewayError.badRequest("missing field 'skill_code': send the skill's TypeScript source")
        }
        do {
            return (try SkillManifest.parse(code, configuration: manifestConfiguration), code)
        } catch {
            throw GatewayError.badRequest(
                "invalid skill header: " + error.problems.map(\.description).joined(separator: "; "),
                problems: error.problems.map { .init(line: $0.line, tag: $0.tag, message: $0.message) })
        }
    }

    /// Named arguments become environment variables: names follow the secret-name rules, values are
    /// bounded, and none may shadow a declared secret.
    func validateArguments(_ args: [String: JSONScalar]?, manifest: SkillManifest) throws -> [String: String] {
        guard let args else { return [:] }
        guard args.count <= Self.maxArguments else { throw GatewayError.badRequest("args has \(args.count) entries; at most \(Self.maxArguments)") }
        var out: [String: String] = [:]
        for (name, value) in args.sorted(by: { $0.key < $1.key }) {
            switch SecretName.validate(name) {
            case .failure(let error): throw GatewayError.badRequest("args.\(name): \(error.message)")
            case .success(let validated) where manifest.secrets.contains(validated):
                throw GatewayError.badRequest("args.\(name) has the name of a declared secret")
            case .success: break
            }
            let text = value.description
            guard text.utf8.count <= Self.maxArgumentBytes, !text.utf8.contains(0) else {
                throw GatewayError.badRequest("args.\(name) must be at most \(Self.maxArgumentBytes) bytes, without NUL")
            }
            out[name] = text
        }
        return out
    }
}

extension JSONBody {
    static func string(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

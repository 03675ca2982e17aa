import Foundation
import Logging
import OAuth3Wire
import Sandbox
import SkillManifest
import Store
import Vault

extension JobService {
    /// Creates a tenant and its API key; only the key's hash is kept.
    func signup(_ request: SignupRequest) async throws -> SignupResponse {
        guard configuration.signupOpen else { throw GatewayError.forbidden("signup is closed on this enclave") }
        for (field, value) in [("name", request.name), ("email", request.email)] {
            if let value, value.count > 200 || value.unicodeScalars.contains(where: { $0.value < 0x20 }) {
                throw GatewayError.badRequest("\(field) must be at most 200 printable characters")
            }
        }
        let key = Identifiers.apiKey()
        let tenant = try await store.createTenant(
            id: Identifiers.make("tenant_"), name: request.name, email: request.email, apiKeyHash: Identifiers.sha256(key), at: clock.now())
        return SignupResponse(tenantId: tenant.id, apiKey: key)
    }

    func me(_ caller: Caller) async throws -> TenantInfo {
        guard let tenant = try await store.tenant(id: caller.tenantId) else { throw GatewayError.notFound("tenant") }
        let counts = try await store.counts(tenant: tenant.id)
        return TenantInfo(tenantId: tenant.id, name: tenant.name, plan: tenant.plan, authentication: caller.method.rawValue,
                          createdAt: tenant.createdAt, secrets: counts.secrets, jobs: counts.jobs)
    }

    /// Validates, seals and stores a secret (with its binding, for a bound one; the binding is sealed
    /// with the value), then lets jobs that were only waiting for it go on.
    func putSecret(name: String, value: String, tenant: String, binding: ValidatedBinding? = nil) async throws {
        if case .failure(let error) = SecretName.validate(name) {
            throw GatewayError.badRequest("secret name '\(name)': \(error.message)")
        }
        guard !value.isEmpty, value.utf8.count <= 64 * 1024, !value.utf8.contains(0) else {
            throw GatewayError.badRequest("secret value must be 1 byte to 64 KiB, without NUL")
        }
        if binding != nil, !ValidatedBinding.isHeaderSafe(value) {
            throw GatewayError.badRequest("a bound secret's value goes into a request header: it must hold no control characters (CR, LF, …)")
        }
        let canonical = binding?.canonical
        try await store.putSecret(
            try vault.seal(value, name: name, tenant: tenant, binding: canonical), name: name, tenant: tenant, binding: canonical, at: clock.now())
    }

    /// The tenant's secrets with their bindings, never their values.
    func secretList(tenant: String) async throws -> SecretList {
        SecretList(secrets: try await store.secrets(tenant: tenant).map { record in
            SecretInfo(
                name: record.name, createdAt: record.createdAt, updatedAt: record.updatedAt,
                binding: try record.binding.map { try ValidatedBinding.stored($0).wire })
        })
    }

    /// Refuses a job that declares a bound secret but no `@network` host the binding covers: the secret
    /// could reach nothing, and the skill's author should hear so at once rather than from a failed request.
    func checkBindings(_ manifest: SkillManifest, tenant: String) async throws {
        let stored = try await store.sealedSecrets(tenant: tenant, names: manifest.secrets.map(\.rawValue))
        for name in manifest.secrets {
            guard let canonical = stored[name.rawValue]?.binding else { continue }
            let binding = try ValidatedBinding.stored(canonical)
            guard binding.coversAny(of: manifest.network) else {
                let hosts = binding.hosts.map(\.description).joined(separator: ", ")
                throw GatewayError.badRequest(
                    "secret \(name) is bound to \(hosts), but the skill's @network declares none of them: add `// @network \(binding.hosts[0])`, or store the secret without hosts")
            }
        }
    }

    /// After a tenant's secrets changed: approved jobs waiting only for secrets run now if they can.
    func releaseJobsWaitingForSecrets(tenant: String) async throws {
        for job in try await store.jobsAwaitingSecrets(tenant: tenant) where job.approvedBy != nil {
            let manifest = try SkillManifest.parse(job.code ?? "", configuration: manifestConfiguration)
            guard try await missingSecrets(manifest, tenant: tenant).isEmpty else { continue }
            let now = clock.now()
            if let approved = try await store.transition(job.id, from: [.awaitingSecrets], at: now, event: "job.approved", detail: ["by": job.approvedBy ?? "", "secrets": "supplied"], {
                $0.status = .approved
                $0.approvedAt = now
            }) {
                await scheduler.wake()
                await changed(approved)
            }
        }
    }
}

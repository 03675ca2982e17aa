import Egress
import SkillManifest

/// One skill to run: its exact source, its validated header, and the secret values it is granted.
public struct SkillJob: Sendable {
    public var source: [UInt8]
    public var manifest: SkillManifest
    /// Values for declared secrets (see ``SecretGrant``), given to the job as environment variables.
    public var secrets: [SecretName: String]
    /// Declared secrets bound to hosts: the job gets each one's placeholder, and its egress proxy writes the
    /// value into request headers to those hosts (``EgressInterception``). Never also in ``secrets``.
    public var boundSecrets: [BoundSecret]
    /// Overrides the header's `@timeout` (the operator's choice; still capped by the policy maximum).
    public var timeoutSeconds: Int?
    /// Warnings carried into the result.
    public var warnings: [String]
    /// Named, non-secret arguments, given to the skill as environment variables it may read.
    /// Names follow the secret-name rules (``SecretName``) and must not collide with a declared secret.
    public var arguments: [SecretName: String]
    /// Whose warm Deno cache the job may use (``DenoCache``): the tenant. `nil` uses none and writes none.
    /// Entries are never shared between scopes.
    public var cacheScope: String?

    public init(
        source: [UInt8], manifest: SkillManifest, secrets: [SecretName: String], timeoutSeconds: Int? = nil,
        warnings: [String] = [], arguments: [SecretName: String] = [:], boundSecrets: [BoundSecret] = [],
        cacheScope: String? = nil
    ) {
        self.cacheScope = cacheScope
        self.source = source
        self.manifest = manifest
        self.secrets = secrets.filter { secret in !boundSecrets.contains { $0.name == secret.key.rawValue } }
        self.boundSecrets = boundSecrets
        self.timeoutSeconds = timeoutSeconds
        self.warnings = warnings
        self.arguments = arguments.filter { argument in
            secrets[argument.key] == nil && !manifest.secrets.contains(argument.key) && !boundSecrets.contains { $0.name == argument.key.rawValue }
        }
    }
}

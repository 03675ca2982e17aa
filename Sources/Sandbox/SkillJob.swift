import SkillManifest

/// One skill to run: its exact source, its validated header, and the secret values it is granted.
public struct SkillJob: Sendable {
    public var source: [UInt8]
    public var manifest: SkillManifest
    /// Values for declared secrets (see ``SecretGrant``).
    public var secrets: [SecretName: String]
    /// Overrides the header's `@timeout` (the operator's choice; still capped by the policy maximum).
    public var timeoutSeconds: Int?
    /// Warnings carried into the result.
    public var warnings: [String]
    /// Named, non-secret arguments, given to the skill as environment variables it may read.
    /// Names follow the secret-name rules (``SecretName``) and must not collide with a declared secret.
    public var arguments: [SecretName: String]

    public init(
        source: [UInt8], manifest: SkillManifest, secrets: [SecretName: String], timeoutSeconds: Int? = nil,
        warnings: [String] = [], arguments: [SecretName: String] = [:]
    ) {
        self.source = source
        self.manifest = manifest
        self.secrets = secrets
        self.timeoutSeconds = timeoutSeconds
        self.warnings = warnings
        self.arguments = arguments.filter { secrets[$0.key] == nil && !manifest.secrets.contains($0.key) }
    }
}

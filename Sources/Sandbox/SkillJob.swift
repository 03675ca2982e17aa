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

    public init(source: [UInt8], manifest: SkillManifest, secrets: [SecretName: String], timeoutSeconds: Int? = nil, warnings: [String] = []) {
        self.source = source
        self.manifest = manifest
        self.secrets = secrets
        self.timeoutSeconds = timeoutSeconds
        self.warnings = warnings
    }
}

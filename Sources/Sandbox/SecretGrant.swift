import SkillManifest

/// Which of the caller's secret values a job receives: exactly those its header declares.
public struct SecretGrant: Sendable, Hashable {
    /// Values of the declared secrets that were provided.
    public let granted: [SecretName: String]
    /// Declared secrets with no value.
    public let missing: [SecretName]
    /// Provided names the header does not declare; they are not injected.
    public let undeclared: [String]
    /// Declared secrets whose value cannot be an environment variable (it contains a NUL byte); not injected.
    public let malformed: [SecretName]

    /// Matches `provided` values against the manifest's declared names.
    public init(manifest: SkillManifest, provided: [String: String]) {
        var granted: [SecretName: String] = [:]
        var missing: [SecretName] = []
        var malformed: [SecretName] = []
        for name in manifest.secrets {
            guard let value = provided[name.rawValue] else {
                missing.append(name)
                continue
            }
            if value.utf8.contains(0) { malformed.append(name) } else { granted[name] = value }
        }
        self.malformed = malformed
        let declared = Set(manifest.secrets.map(\.rawValue))
        self.granted = granted
        self.missing = missing
        self.undeclared = provided.keys.filter { !declared.contains($0) }.sorted()
    }

    /// One warning per provided-but-undeclared secret.
    public var warnings: [String] {
        undeclared.map { "secret \($0) was provided but the skill does not declare it in @secrets; it was not injected" }
    }
}

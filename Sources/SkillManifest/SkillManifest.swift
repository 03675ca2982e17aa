/// A skill's validated header: what the skill is, and everything it may touch.
///
/// Only ``SkillManifest/parse(_:configuration:)`` produces one, so holding a `SkillManifest` means every
/// grant in it passed validation. The sandbox derives Deno's flags, the environment and the egress policy
/// from these values alone.
public struct SkillManifest: Sendable, Hashable {
    /// The `@skill` slug.
    public let skill: String
    /// The `@description`, if any.
    public let description: String?
    /// Declared `@secrets`, in declaration order, without duplicates.
    public let secrets: [SecretName]
    /// Declared `@network` hosts, in declaration order, without duplicates.
    public let network: [HostPattern]
    /// Wall-clock limit in whole seconds (the header's `@timeout`, or the configured default).
    public let timeoutSeconds: Int
    /// Number of lines in the header block, so tools can show where the code starts.
    public let headerLineCount: Int

    init(
        skill: String, description: String?, secrets: [SecretName], network: [HostPattern],
        timeoutSeconds: Int, headerLineCount: Int
    ) {
        self.skill = skill
        self.description = description
        self.secrets = secrets
        self.network = network
        self.timeoutSeconds = timeoutSeconds
        self.headerLineCount = headerLineCount
    }
}

/// The tags a header may use. Anything else is an error (with a suggestion for near misses).
public enum ManifestTag: String, Sendable, CaseIterable {
    case skill, description, secrets, network, timeout

    /// Tags that may appear once per line, any number of times.
    var isRepeatable: Bool { self == .secrets || self == .network }
}

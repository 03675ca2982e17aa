import SkillManifest

/// What a human approved for a session: the secrets and hosts skills in it may use without asking again.
///
/// `constraints` are shown to the approver verbatim and kept with the session, but they are prose: the
/// enclave does not machine-check them. Only secrets and hosts decide auto-approval.
public struct SessionPolicy: Codable, Sendable, Hashable {
    public var description: String
    public var constraints: [String]
    /// Secret names (validated like `@secrets`).
    public var secrets: [String]
    /// Hosts as `host:port` or `*.host:port` (validated like `@network`).
    public var networks: [String]
    /// The code (SHA-256) approved with the session's scopes: only these run without a human, unless
    /// ``anyCode``. Absent in sessions from before code binding, which then approve no code by themselves.
    public var codeHashes: [String]?
    /// The approver chose "any code within these hosts and secrets" (recorded in every result it approves).
    public var anyCode: Bool?

    public init(description: String, constraints: [String], secrets: [String], networks: [String], codeHashes: [String]? = nil, anyCode: Bool? = nil) {
        self.description = description
        self.constraints = constraints
        self.secrets = secrets
        self.networks = networks
        self.codeHashes = codeHashes
        self.anyCode = anyCode
    }

    /// Whether the session approves this code (beyond hosts and secrets, which ``gaps(for:)`` checks).
    func approves(codeSHA256: String) -> Bool { anyCode == true || (codeHashes ?? []).contains(codeSHA256) }

    /// The union of two policies (asking again for a session can only add).
    func adding(_ other: SessionPolicy) -> SessionPolicy {
        SessionPolicy(
            description: other.description.isEmpty ? description : other.description,
            constraints: constraints + other.constraints.filter { !constraints.contains($0) },
            secrets: secrets + other.secrets.filter { !secrets.contains($0) },
            networks: networks + other.networks.filter { !networks.contains($0) },
            codeHashes: (codeHashes ?? []) + (other.codeHashes ?? []).filter { !(codeHashes ?? []).contains($0) },
            anyCode: anyCode == true || other.anyCode == true ? true : nil)
    }

    /// What `manifest` needs beyond this policy: secrets not in it, and hosts no policy host covers.
    func gaps(for manifest: SkillManifest) -> (secrets: [String], networks: [String]) {
        let hosts = networks.compactMap { try? HostPattern.validate($0).get() }
        let missingSecrets = manifest.secrets.map(\.rawValue).filter { !secrets.contains($0) }
        let missingHosts = manifest.network.filter { wanted in !hosts.contains { $0.covers(wanted) } }.map(\.description)
        return (missingSecrets, missingHosts)
    }
}

/// How long a session stays usable without activity.
public enum SessionRules {
    public static let idleLimitMilliseconds: Int64 = 2 * 3600 * 1000
}

/// Operator-set bounds for skill headers. A skill can ask for less, never for more.
public struct ManifestConfiguration: Sendable, Hashable {
    /// Largest accepted source, in bytes.
    public var maxSourceBytes: Int
    /// `@timeout` used when the header has none.
    public var defaultTimeoutSeconds: Int
    /// Largest `@timeout` a header may declare.
    public var maxTimeoutSeconds: Int
    /// Most `@secrets` lines.
    public var maxSecrets: Int
    /// Most `@network` lines.
    public var maxHosts: Int
    /// Longest `@description`, in characters.
    public var maxDescriptionLength: Int

    /// The defaults of `policies/limits.json`.
    public init(
        maxSourceBytes: Int = 256 * 1024,
        defaultTimeoutSeconds: Int = 30,
        maxTimeoutSeconds: Int = 300,
        maxSecrets: Int = 32,
        maxHosts: Int = 32,
        maxDescriptionLength: Int = 500
    ) {
        self.maxSourceBytes = maxSourceBytes
        self.defaultTimeoutSeconds = defaultTimeoutSeconds
        self.maxTimeoutSeconds = maxTimeoutSeconds
        self.maxSecrets = maxSecrets
        self.maxHosts = maxHosts
        self.maxDescriptionLength = maxDescriptionLength
    }
}

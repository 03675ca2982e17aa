import SkillManifest

/// A secret that never enters the job: the job holds ``placeholder``, and the egress proxy writes ``value``
/// into request headers bound for ``hosts`` only.
///
/// The value lives in the daemon's memory for the job's life and nowhere else: not in the job's
/// environment, files or command line, and not in the transcript (which names secrets, never values).
public struct BoundSecret: Sendable {
    /// The secret's name, as the skill declares it in `@secrets` (and as the transcript names it).
    public let name: String
    /// What the job sees in place of the value: `oauth3-placeholder-NAME-` and 32 random hex digits,
    /// fresh for every job, so a placeholder seen in one job's output means nothing in another's.
    public let placeholder: String
    /// The real value, substituted on the wire.
    public let value: String
    /// The hosts (and ports) whose request headers may carry the value.
    public let hosts: [HostPattern]

    /// A bound secret with a fresh placeholder.
    public init(name: String, value: String, hosts: [HostPattern]) {
        self.init(name: name, value: value, hosts: hosts, placeholder: Self.makePlaceholder(for: name))
    }

    init(name: String, value: String, hosts: [HostPattern], placeholder: String) {
        self.name = name
        self.value = value
        self.hosts = hosts
        self.placeholder = placeholder
    }

    /// The prefix every placeholder starts with, so a reader recognises one.
    public static let placeholderPrefix = "oauth3-placeholder-"

    /// A new placeholder for `name`: recognisable prefix, the name, 128 random bits.
    public static func makePlaceholder(for name: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<16).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }
        return placeholderPrefix + name + "-" + random.joined()
    }

    /// Whether a request to `host:port` may carry the value.
    public func isBound(to host: String, port: Int) -> Bool {
        hosts.contains { $0.matches(host: host, port: port) }
    }
}

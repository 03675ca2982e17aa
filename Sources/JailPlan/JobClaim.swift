/// What a prepared jail learns only when a job claims it: the program's arguments, its resource limits,
/// and whether it gets an egress bridge. Everything else of the jail is the same for every job of a
/// daemon, so it is on the command line and already applied while the jail waits (``JailConfiguration/prepared``).
///
/// It reaches the waiting jail as a length-prefixed block at the start of its stdin, ahead of the
/// environment block (``EnvironmentBlock``) and the script: the daemon already writes stdin, and the
/// waiting jail, init of the job's namespaces, reads it with the same exact-length reads, so no byte of
/// the script is taken. Nothing in it is secret (the secrets are in the environment block).
///
/// ```
/// "O3C1"  body length (UInt32, big-endian)  ARG\0 ARG\0 …
/// ```
/// The body is a list of NUL-terminated words in the jail's own command-line syntax, limited to the
/// job-dependent flags: `[--rlimit NAME SOFT HARD]... [--egress-bridge PORT SOCKET] -- [ARG]...`.
public struct JobClaim: Sendable, Hashable {
    /// The program's arguments, without argv[0].
    public var arguments: [String]
    /// Resource limits applied to the program.
    public var resourceLimits: [ResourceLimit]
    /// The bridge to the daemon's egress proxy, for a job that declared hosts.
    public var egressBridge: EgressBridge?

    public init(arguments: [String], resourceLimits: [ResourceLimit] = [], egressBridge: EgressBridge? = nil) {
        self.arguments = arguments
        self.resourceLimits = resourceLimits
        self.egressBridge = egressBridge
    }

    /// The first four bytes: the format and its version.
    public static let magic: [UInt8] = Array("O3C1".utf8)
    /// Magic and length.
    public static let headerSize = 8
    /// Arguments share `execve`'s budget with the environment (``EnvironmentBlock/maxBodyBytes``).
    public static let maxBodyBytes = 1 << 20

    /// The words of the body (the jail's command-line syntax, job-dependent flags only).
    public var words: [String] {
        var out: [String] = []
        for limit in resourceLimits { out += ["--rlimit", limit.resource.rawValue, String(limit.soft), String(limit.hard)] }
        if let egressBridge { out += ["--egress-bridge", String(egressBridge.port), egressBridge.socketPath] }
        return out + ["--"] + arguments
    }

    /// The block, header included.
    /// - Throws: ``JailFailure`` (stage `claim`) for an argument holding NUL or a block over ``maxBodyBytes``.
    public func encoded() throws(JailFailure) -> [UInt8] {
        var body: [UInt8] = []
        for (index, word) in words.enumerated() {
            guard !word.utf8.contains(0) else { throw JailFailure(.claim, "word \(index) holds a NUL byte") }
            body += word.utf8
            body.append(0)
        }
        guard body.count <= Self.maxBodyBytes else { throw JailFailure(.claim, "a claim of \(body.count) bytes is over \(Self.maxBodyBytes)") }
        let length = UInt32(body.count)
        return Self.magic + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> $0) } + body
    }

    /// The body length a header announces.
    /// - Throws: ``JailFailure`` when `header` is not a claim header or announces more than ``maxBodyBytes``.
    public static func bodyLength(header: some Collection<UInt8>) throws(JailFailure) -> Int {
        let bytes = Array(header)
        guard bytes.count == headerSize, Array(bytes.prefix(4)) == magic else {
            throw JailFailure(.claim, "stdin does not start with a job claim (O3C1)")
        }
        let length = bytes[4...].reduce(0) { $0 << 8 | Int($1) }
        guard length <= maxBodyBytes else { throw JailFailure(.claim, "a claim of \(length) bytes is over \(maxBodyBytes)") }
        return length
    }

    /// Decodes a body: NUL-terminated words, job-dependent flags only.
    /// - Throws: ``JailFailure`` (stage `claim`) naming what is wrong.
    public init(body: some Collection<UInt8>) throws(JailFailure) {
        let bytes = Array(body)
        guard bytes.isEmpty || bytes.last == 0 else { throw JailFailure(.claim, "the last word is not NUL-terminated") }
        let words = bytes.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
        // The jail's own decoder, on a configuration that has nothing else: only the job-dependent flags may appear.
        let flags: [String] = Array(words.prefix { $0 != "--" })
        let arguments: [String] = Array(words.drop { $0 != "--" }.dropFirst())
        let decoded: JailConfiguration
        do throws(JailUsageError) {
            decoded = try JailConfiguration(arguments: ["--root", "/"] + flags + ["--", "/"] + arguments)
        } catch {
            throw JailFailure(.claim, error.message)
        }
        guard words.contains("--"), decoded.claimOnly else { throw JailFailure(.claim, "a claim holds only --rlimit, --egress-bridge and '-- ARG...'") }
        self.init(arguments: decoded.arguments, resourceLimits: decoded.resourceLimits, egressBridge: decoded.egressBridge)
    }
}

extension JailConfiguration {
    /// Takes the job-dependent parts of `claim`.
    public mutating func apply(_ claim: JobClaim) {
        arguments = claim.arguments
        resourceLimits = claim.resourceLimits
        egressBridge = claim.egressBridge
    }

    /// The configuration without its job-dependent parts: what a prepared jail is started with.
    public var withoutJob: JailConfiguration {
        var configuration = self
        configuration.apply(JobClaim(arguments: []))
        configuration.prepared = true
        return configuration
    }

    /// The job-dependent parts, as a claim.
    public var claim: JobClaim { JobClaim(arguments: arguments, resourceLimits: resourceLimits, egressBridge: egressBridge) }

    /// Whether everything but the claim's parts is at its default (the claim decoder's check that no other
    /// flag was smuggled into a claim).
    var claimOnly: Bool {
        var rest = self
        rest.apply(JobClaim(arguments: []))
        var expected = JailConfiguration(program: "/")
        expected.filesystem.stagingDirectory = "/"
        return rest == expected
    }
}

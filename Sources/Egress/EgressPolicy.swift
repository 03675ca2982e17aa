import SkillManifest

/// What a job's egress proxy admits, beyond the hosts the job declared: which resolved addresses are
/// refused, which named hosts may reach a refused range anyway, and the per-job budgets.
///
/// Three tiers decide an address: the built-in ``floor`` (loopback, link-local, cloud metadata, multicast,
/// unspecified, and the IPv6 forms that embed an IPv4 address) is refused whatever the configuration says; ``refusedRanges`` (`egress.json`) is refused
/// unless an ``Widening`` names the host and a range holding the address; everything else is allowed.
public struct EgressPolicy: Sendable, Hashable {
    /// Lets named hosts reach addresses in otherwise refused ranges (an internal API on 10.x, say).
    public struct Widening: Sendable, Hashable {
        /// Host names, `api.internal` or `*.internal` (the manifest's wildcard rule: subdomains only).
        public var hosts: [String]
        /// Ranges those hosts may resolve into. None may overlap the ``EgressPolicy/floor``.
        public var ranges: [IPRange]

        public init(hosts: [String], ranges: [IPRange]) {
            self.hosts = hosts.map { $0.lowercased() }
            self.ranges = ranges
        }

        func names(_ host: String) -> Bool {
            let host = host.lowercased()
            return hosts.contains { $0.hasPrefix("*.") ? host.hasSuffix(String($0.dropFirst())) : $0 == host }
        }
    }

    /// Ranges no configuration reopens: the machine itself, its link (where cloud metadata services live),
    /// multicast and broadcast, "this network", the metadata addresses that sit inside other ranges, and
    /// the IPv6 forms that carry an IPv4 address or a deprecated scope.
    ///
    /// The IPv6 forms that embed an IPv4 address are refused whole rather than unpacked and judged by
    /// the IPv4 rules. IPv4-compatible `::a.b.c.d` (RFC 4291 §2.5.5.1) and site-local `fec0::/10`
    /// (RFC 3879) are deprecated, and SIIT's `::ffff:0:a.b.c.d` (RFC 2765) is obsolete: no public
    /// service answers there, so a name resolving into them is an attempt, not a deployment. NAT64's
    /// `64:ff9b::/96` (RFC 6052) and `64:ff9b:1::/48` (RFC 8215) lead to whatever IPv4 address the
    /// translator is given, and where that address sits under a local-use prefix depends on the prefix
    /// length its operator chose (RFC 6052 §2.2),
    /// so extracting "the" IPv4 address would mean trusting a layout the proxy cannot know. Refusing
    /// them costs only a deployment whose sole way out is NAT64 behind DNS64; the daemon needs direct
    /// IPv4 or IPv6 egress. (IPv4-mapped `::ffff:a.b.c.d` is different: the kernel connects to the IPv4
    /// address itself, so it is checked as that address, see ``IPAddress/unmapped``.)
    public static let floor: [IPRange] = [
        "0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "255.255.255.255/32",
        "100.100.100.200/32",  // Alibaba Cloud's metadata service, inside CGNAT space
        "::/128", "::1/128",  // before ::/96, so a refusal names the more specific range
        "::/96",  // IPv4-compatible ::a.b.c.d, deprecated
        "::ffff:0:0:0/96",  // SIIT ::ffff:0:a.b.c.d, obsolete
        "64:ff9b::/96", "64:ff9b:1::/48",  // NAT64, well-known and local-use prefixes
        "fe80::/10", "fec0::/10", "ff00::/8",  // link-local, site-local (deprecated), multicast
        "fd00:ec2::254/128",  // AWS's IPv6 metadata service, inside unique-local space
    ].map { IPRange($0)! }

    /// Ranges refused unless widened (`egress.json`'s `refused_ranges`).
    public var refusedRanges: [IPRange]
    /// Per-host exceptions to ``refusedRanges``.
    public var widenings: [Widening]
    /// Connections admitted over a job's life.
    public var maxConnections: Int
    /// Connections open at once.
    public var maxConcurrentConnections: Int
    /// Bytes relayed in both directions together, over all of a job's connections.
    public var maxBytes: Int
    /// How long resolving and connecting to the upstream may take, in milliseconds.
    public var connectTimeoutMilliseconds: Int
    /// How long a new connection may take to send its request head before it is closed (it holds no
    /// connection slot until then, so this is what bounds idle ones).
    public var headTimeoutMilliseconds = 10_000
    /// The proxy's own DNS servers (`address` or `address:port`); empty means `/etc/resolv.conf`'s.
    public var nameservers: [String]
    /// The floor in force: ``floor`` for every real policy. Only the proxy benchmark, which measures the
    /// proxy against a loopback server, empties it (``unsafeWithoutFloor()``).
    public private(set) var floorRanges = Self.floor

    public init(
        refusedRanges: [IPRange], widenings: [Widening] = [], maxConnections: Int = 256, maxConcurrentConnections: Int = 16,
        maxBytes: Int = 64 << 20, connectTimeoutMilliseconds: Int = 10_000, nameservers: [String] = []
    ) {
        self.refusedRanges = refusedRanges
        self.widenings = widenings
        self.maxConnections = maxConnections
        self.maxConcurrentConnections = maxConcurrentConnections
        self.maxBytes = maxBytes
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.nameservers = nameservers
    }

    /// The same policy with no floor: loopback becomes reachable. For the proxy benchmark only.
    public func unsafeWithoutFloor() -> EgressPolicy {
        var copy = self
        copy.floorRanges = []
        return copy
    }

    /// Why `target` may not be requested by a job that declared `declared`, or `nil` when it may.
    public func refusal(of target: ProxyTarget, declared: [HostPattern]) -> EgressRefusal? {
        if IPAddress(target.host) != nil || target.host.hasPrefix("[") {
            return .rawAddress(target.host)
        }
        guard declared.contains(where: { $0.matches(host: target.host, port: target.port) }) else {
            return .undeclared(target)
        }
        return nil
    }

    /// Why `host` may not be reached at `address`, or `nil` when it may.
    public func refusal(of address: IPAddress, for host: String) -> EgressRefusal? {
        if let range = floorRanges.first(where: { $0.contains(address) }) {
            return .refusedAddress(address, range: range, widenable: false)
        }
        guard let range = refusedRanges.first(where: { $0.contains(address) }) else { return nil }
        let widened = widenings.contains { $0.names(host) && $0.ranges.contains { $0.contains(address) } }
        return widened ? nil : .refusedAddress(address, range: range, widenable: true)
    }

    /// Problems with the configuration itself: a widening that reaches into the floor, or a bad host name.
    public func problems() -> [String] {
        var out: [String] = []
        for (index, widening) in widenings.enumerated() {
            for range in widening.ranges {
                if let floor = Self.floor.first(where: { $0.overlaps(range) }) {
                    out.append("widen[\(index)].ranges: \(range) overlaps \(floor), which is never reachable")
                }
            }
            for host in widening.hosts {
                let name = host.hasPrefix("*.") ? String(host.dropFirst(2)) : host
                if case .failure = HostPattern.validate(name) { out.append("widen[\(index)].hosts: '\(host)' is not a host name") }
            }
        }
        if maxConnections < 1 { out.append("max_connections must be at least 1") }
        if maxConcurrentConnections < 1 { out.append("max_concurrent_connections must be at least 1") }
        if maxBytes < 1 { out.append("max_bytes must be at least 1") }
        if connectTimeoutMilliseconds < 1 { out.append("connect_timeout_ms must be at least 1") }
        return out
    }
}

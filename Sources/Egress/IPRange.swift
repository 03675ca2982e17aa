/// An address range (`a.b.c.d/n` or an IPv6 prefix `x:…/n`), from `egress.json` or the built-in floor.
///
/// IPv4 ranges also go into Deno's `--deny-net` as written (``text``); the egress proxy checks every
/// resolved address against the parsed prefix (``contains(_:)``), IPv6 included, which Deno cannot express.
public struct IPRange: Sendable, Hashable, CustomStringConvertible {
    /// The range as written, e.g. `10.0.0.0/8` or `fc00::/7`.
    public let text: String
    /// The first address of the range.
    public let network: IPAddress
    /// How many leading bits are fixed.
    public let prefixLength: Int

    /// Whether this is an IPv4 range.
    public var isIPv4: Bool { network.isIPv4 }

    /// Parses `a.b.c.d/n` (n ≤ 32) or `x:…/n` (n ≤ 128). Bits past the prefix must be zero, so a typo
    /// such as `10.0.0.1/8` is an error rather than a silently different range.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty, parts[1].allSatisfy(\.isNumber), let bits = Int(parts[1]),
            let network = IPAddress(String(parts[0])), bits <= network.bytes.count * 8
        else { return nil }
        for (index, byte) in network.bytes.enumerated() where byte & ~Self.mask(byteIndex: index, prefixLength: bits) != 0 {
            return nil
        }
        self.text = text
        self.network = network
        self.prefixLength = bits
    }

    /// Whether `address` is inside this range. An IPv4-mapped IPv6 address counts as its IPv4 address;
    /// otherwise the families must agree.
    public func contains(_ address: IPAddress) -> Bool {
        let candidate = network.isIPv4 ? address.unmapped : address
        guard candidate.bytes.count == network.bytes.count else { return false }
        for index in 0..<network.bytes.count {
            let mask = Self.mask(byteIndex: index, prefixLength: prefixLength)
            if candidate.bytes[index] & mask != network.bytes[index] { return false }
        }
        return true
    }

    /// Whether the two ranges share any address, as ``contains(_:)`` judges addresses: an IPv4-mapped
    /// IPv6 range (`::ffff:a.b.c.d/n`, n ≥ 96) is the IPv4 range it carries, and an IPv6 range holding
    /// all of `::ffff:0:0/96` overlaps every IPv4 range. Otherwise ranges of different families never do.
    public func overlaps(_ other: IPRange) -> Bool {
        let (one, two) = (unmapped, other.unmapped)
        if one.isIPv4 == two.isIPv4 { return one.contains(two.network) || two.contains(one.network) }
        let v6 = one.isIPv4 ? two : one
        return v6.prefixLength <= 96 && v6.contains(Self.mappedSpace.network)
    }

    /// `::ffff:0:0/96`, where IPv4-mapped addresses live.
    private static let mappedSpace = IPRange("::ffff:0:0/96")!

    /// The IPv4 range an IPv4-mapped IPv6 range carries, or `self`.
    private var unmapped: IPRange {
        guard !isIPv4, prefixLength >= 96, Self.mappedSpace.contains(network) else { return self }
        let v4 = network.unmapped
        return IPRange(network: v4, prefixLength: prefixLength - 96, text: "\(v4)/\(prefixLength - 96)")
    }

    private init(network: IPAddress, prefixLength: Int, text: String) {
        self.network = network
        self.prefixLength = prefixLength
        self.text = text
    }

    public var description: String { text }

    private static func mask(byteIndex: Int, prefixLength: Int) -> UInt8 {
        let bits = min(max(prefixLength - byteIndex * 8, 0), 8)
        return bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
    }
}

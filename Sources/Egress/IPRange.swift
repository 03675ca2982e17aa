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

    /// Whether the two ranges share any address.
    public func overlaps(_ other: IPRange) -> Bool {
        guard network.isIPv4 == other.network.isIPv4 else { return false }
        return contains(other.network) || other.contains(network)
    }

    public var description: String { text }

    private static func mask(byteIndex: Int, prefixLength: Int) -> UInt8 {
        let bits = min(max(prefixLength - byteIndex * 8, 0), 8)
        return bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
    }
}

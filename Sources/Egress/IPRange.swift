/// An address range from `egress.json`, kept as the text the operator wrote after checking its form.
///
/// IPv4 ranges also go into Deno's `--deny-net` (Deno matches resolved addresses against them); IPv6
/// ranges are enforced only by the egress proxy, because Deno's flag cannot express them.
public struct IPRange: Sendable, Hashable, CustomStringConvertible {
    /// The range as written, e.g. `10.0.0.0/8` or `fc00::/7`.
    public let text: String
    /// Whether this is an IPv4 range.
    public let isIPv4: Bool

    /// Parses `a.b.c.d/n` (n ≤ 32) or an IPv6 prefix `x:…/n` (n ≤ 128).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bits = Int(parts[1]), !parts[1].isEmpty else { return nil }
        let address = parts[0]
        let octets = address.split(separator: ".", omittingEmptySubsequences: false)
        if octets.count == 4, octets.allSatisfy({ !$0.isEmpty && $0.count <= 3 && Int($0).map { (0...255).contains($0) } == true }) {
            guard (0...32).contains(bits) else { return nil }
            isIPv4 = true
        } else if address.contains(":"), address.allSatisfy({ $0.isHexDigit || $0 == ":" }) {
            guard (0...128).contains(bits) else { return nil }
            isIPv4 = false
        } else {
            return nil
        }
        self.text = text
    }

    public var description: String { text }
}

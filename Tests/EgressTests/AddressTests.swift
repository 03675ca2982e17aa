import Egress
import Testing

@Suite("Addresses and ranges")
struct AddressTests {
    @Test("Strict address text: dotted quads and RFC 4291 IPv6, nothing looser", arguments: [
        ("10.0.0.1", "10.0.0.1"), ("255.255.255.255", "255.255.255.255"), ("::1", "::1"), ("::", "::"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), ("::ffff:127.0.0.1", "::ffff:7f00:1"), ("fe80::1:0:0:1", "fe80::1:0:0:1"),
        ("1:0:0:1:0:0:0:1", "1:0:0:1::1"), ("::127.0.0.1", "::7f00:1"), ("::ffff:0:127.0.0.1", "::ffff:0:7f00:1"),
        ("64:ff9b::127.0.0.1", "64:ff9b::7f00:1"), ("64:ff9b:1::a00:1", "64:ff9b:1::a00:1"), ("fec0::1", "fec0::1"),
    ])
    func parses(text: String, shown: String) {
        #expect(IPAddress(text)?.description == shown)
    }

    @Test("Loose spellings that some parsers take are refused", arguments: [
        "127.1", "0x7f.0.0.1", "0177.0.0.1", "127.000.0.1", "2130706433", "1.2.3.4.5", "1.2.3", "256.1.1.1", " 1.2.3.4",
        "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "::g", "", "localhost", "[::1]", "fe80::1%eth0", "1.2.3.4/8",
    ])
    func refusesLoose(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test("An IPv4-mapped IPv6 address is checked as the IPv4 address it carries")
    func mapped() throws {
        let loopback = try #require(IPRange("127.0.0.0/8"))
        #expect(loopback.contains(try #require(IPAddress("::ffff:127.0.0.1"))))
        #expect(!loopback.contains(try #require(IPAddress("::127.0.0.1"))))  // IPv4-compatible is not mapped
        #expect(!loopback.contains(try #require(IPAddress("128.0.0.1"))))
    }

    @Test("Range edges", arguments: [
        ("10.0.0.0/8", "10.255.255.255", true), ("10.0.0.0/8", "11.0.0.0", false), ("172.16.0.0/12", "172.31.0.1", true),
        ("172.16.0.0/12", "172.32.0.1", false), ("100.64.0.0/10", "100.127.255.255", true), ("100.64.0.0/10", "100.128.0.0", false),
        ("fc00::/7", "fdff::1", true), ("fc00::/7", "fe00::1", false), ("fe80::/10", "febf::1", true), ("0.0.0.0/0", "8.8.8.8", true),
        ("10.0.0.0/8", "::a00:1", false), ("::/96", "::a00:1", true), ("::/96", "::1:0:0", false), ("::/96", "::ffff:a00:1", false),
        ("::ffff:0:0:0/96", "::ffff:0:a00:1", true), ("::ffff:0:0:0/96", "::ffff:a00:1", false), ("64:ff9b::/96", "64:ff9b::1:0:0", false),
        ("64:ff9b:1::/48", "64:ff9b:1:ffff::1", true), ("64:ff9b:1::/48", "64:ff9b:2::", false), ("fec0::/10", "feff::1", true),
        ("fec0::/10", "febf::1", false), ("fec0::/10", "ff00::1", false),
    ])
    func edges(range: String, address: String, inside: Bool) throws {
        #expect(try #require(IPRange(range)).contains(try #require(IPAddress(address))) == inside)
    }

    @Test("IPv4-mapped IPv6 ranges overlap the IPv4 ranges they carry; other families never meet", arguments: [
        ("::ffff:7f00:0/104", "127.0.0.0/8", true), ("::ffff:7f00:1/128", "127.0.0.0/8", true), ("::ffff:a00:0/104", "127.0.0.0/8", false),
        ("::/0", "127.0.0.0/8", true), ("::ffff:0:0/96", "10.0.0.0/8", true), ("::/96", "127.0.0.0/8", false),
        ("64:ff9b::/96", "127.0.0.0/8", false), ("fe80::/10", "0.0.0.0/0", false),
    ] as [(String, String, Bool)])
    func mappedOverlap(v6: String, v4: String, overlaps: Bool) throws {
        let (a, b) = (try #require(IPRange(v6)), try #require(IPRange(v4)))
        #expect(a.overlaps(b) == overlaps && b.overlaps(a) == overlaps)
    }

    @Test("A range with bits set past its prefix is a typo, refused", arguments: ["10.0.0.1/8", "fc00::1/7", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/+8", "10/8"])
    func badRanges(text: String) {
        #expect(IPRange(text) == nil)
    }
}

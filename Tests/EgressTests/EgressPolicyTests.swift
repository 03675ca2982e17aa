import Egress
import Sandbox
import Foundation
import SkillManifest
import TestSupport
import Testing

@Suite("Egress policy")
struct EgressPolicyTests {
    /// The repository's own policy, as the daemon loads it.
    let policy: EgressPolicy = try! PolicySetReader.egress()

    @Test("Every class of address a job must never reach is refused by the shipped policy", arguments: [
        "127.0.0.1", "127.255.0.1", "0.0.0.0", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "169.254.1.1",
        "100.64.0.1", "100.100.100.200", "224.0.0.1", "239.255.255.250", "255.255.255.255", "192.0.2.1", "198.18.0.1",
        "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "fd00:ec2::254", "ff02::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1",
        "64:ff9b::a00:1", "2001:db8::1", "2002:a00:1::1", "2001:0:a00:1::1",
    ])
    func refused(address: String) throws {
        #expect(policy.refusal(of: try #require(IPAddress(address)), for: "api.example.com") != nil)
    }

    @Test("Public addresses are allowed", arguments: [
        "93.184.216.34", "140.82.112.3", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946", "2a00:1450:4001::1", "2606:4700::1111",
    ])
    func allowed(address: String) throws {
        #expect(policy.refusal(of: try #require(IPAddress(address)), for: "api.example.com") == nil)
    }

    @Test("A widening opens its range to the named hosts only, and never reaches the floor")
    func widening() throws {
        var widened = policy
        widened.widenings = [.init(hosts: ["api.internal", "*.corp.example"], ranges: [try #require(IPRange("10.20.0.0/16"))])]
        let inside = try #require(IPAddress("10.20.1.1"))
        #expect(widened.refusal(of: inside, for: "api.internal") == nil)
        #expect(widened.refusal(of: inside, for: "x.corp.example") == nil)
        #expect(widened.refusal(of: inside, for: "corp.example") != nil)  // the wildcard covers subdomains only
        #expect(widened.refusal(of: inside, for: "other.internal") != nil)
        #expect(widened.refusal(of: try #require(IPAddress("10.21.0.1")), for: "api.internal") != nil)
        #expect(widened.problems().isEmpty)

        widened.widenings = [.init(hosts: ["api.internal"], ranges: [try #require(IPRange("169.254.0.0/16")), try #require(IPRange("127.0.0.0/24"))])]
        #expect(widened.problems().count == 2)
        #expect(widened.problems().first?.contains("never reachable") == true)
        #expect(widened.refusal(of: try #require(IPAddress("169.254.169.254")), for: "api.internal") == .refusedAddress(
            try #require(IPAddress("169.254.169.254")), range: try #require(IPRange("169.254.0.0/16")), widenable: false))
    }

    @Test(
        "IPv6 forms that carry an IPv4 address (compatible, SIIT, NAT64) and site-local are floor: refused, named, never widenable",
        arguments: [
            ("::127.0.0.1", "::/96"), ("::169.254.169.254", "::/96"), ("::10.0.0.1", "::/96"), ("::8.8.8.8", "::/96"),
            ("::ffff:0:127.0.0.1", "::ffff:0:0:0/96"), ("::ffff:0:169.254.169.254", "::ffff:0:0:0/96"),
            ("::ffff:0:192.168.1.1", "::ffff:0:0:0/96"),
            ("64:ff9b::7f00:1", "64:ff9b::/96"), ("64:ff9b::169.254.169.254", "64:ff9b::/96"), ("64:ff9b::a00:1", "64:ff9b::/96"),
            ("64:ff9b:1::a00:1", "64:ff9b:1::/48"), ("64:ff9b:1:7f00:0:100::", "64:ff9b:1::/48"),
            ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "64:ff9b:1::/48"),
            ("fec0::1", "fec0::/10"), ("feff:ffff::1", "fec0::/10"),
            ("::1", "::1/128"), ("::", "::/128"),  // the specific ranges still name loopback and unspecified
        ] as [(String, String)])
    func embeddedIPv4IsFloor(text: String, range: String) throws {
        let address = try #require(IPAddress(text), "\(text) must parse")
        let expected = EgressRefusal.refusedAddress(address, range: try #require(IPRange(range)), widenable: false)
        // The shipped policy, a policy with nothing configured, and one whose widening tries to reopen everything.
        let host = "api.example.com"
        let everything = EgressPolicy.Widening(hosts: [host], ranges: [try #require(IPRange("::/0")), try #require(IPRange("0.0.0.0/0"))])
        for candidate in [policy, EgressPolicy(refusedRanges: []), EgressPolicy(refusedRanges: [], widenings: [everything])] {
            #expect(candidate.refusal(of: address, for: host) == expected, "\(text)")
        }
        #expect(expected.description.contains("inside the refused range \(range) (never reachable)"))
    }

    @Test("Neighbours of the new floor ranges that carry no IPv4 address are not floor", arguments: [
        "::1:0:0", "::ffff:1:0:0", "64:ff9b::1:0:0", "64:ff9b:2::1", "64:ff9a:ffff::1",
    ])
    func floorEdges(text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(!EgressPolicy.floor.contains { $0.contains(address) }, "\(text)")
    }

    @Test("A widening that overlaps a floor range is a configuration problem naming both", arguments: [
        ("::/96", "::/128"), ("::a00:0/104", "::/96"), ("::ffff:0:a00:0/104", "::ffff:0:0:0/96"), ("64:ff9b::/32", "64:ff9b::/96"),
        ("64:ff9b::a00:0/120", "64:ff9b::/96"), ("64:ff9b:1:2::/64", "64:ff9b:1::/48"), ("fec0:1::/32", "fec0::/10"),
        ("::ffff:7f00:0/104", "127.0.0.0/8"), ("::ffff:a9fe:a9fe/128", "169.254.0.0/16"),
    ] as [(String, String)])
    func wideningIntoFloor(widened: String, floor: String) throws {
        var configured = policy
        configured.widenings = [.init(hosts: ["api.internal"], ranges: [try #require(IPRange(widened))])]
        #expect(configured.problems() == ["widen[0].ranges: \(widened) overlaps \(floor), which is never reachable"])
    }

    @Test("Widenings beside the floor are no problem", arguments: ["::ffff:a00:0/104", "2001:db8:1::/48", "fc00::/8", "64:ff9c::/96"])
    func wideningBesideFloor(widened: String) throws {
        var configured = policy
        configured.widenings = [.init(hosts: ["api.internal"], ranges: [try #require(IPRange(widened))])]
        #expect(configured.problems().isEmpty, "\(configured.problems())")
    }

    @Test("Requests are admitted by the manifest's own host rule: exact names, subdomains for wildcards, the declared port")
    func declaredHosts() throws {
        let declared = try SkillManifest.parse("// @skill a\n// @network api.example.com\n// @network *.cdn.example.org:8443\n").network
        func admitted(_ host: String, _ port: Int) -> Bool { policy.refusal(of: ProxyTarget(host: host, port: port), declared: declared) == nil }
        #expect(admitted("api.example.com", 443))
        #expect(admitted("API.Example.COM", 443))
        #expect(!admitted("api.example.com", 80))
        #expect(!admitted("example.com", 443))
        #expect(!admitted("evil-api.example.com", 443))
        #expect(admitted("a.cdn.example.org", 8443))
        #expect(admitted("a.b.cdn.example.org", 8443))
        #expect(!admitted("cdn.example.org", 8443))
        #expect(!admitted("a.cdn.example.org", 443))
        #expect(policy.refusal(of: ProxyTarget(host: "93.184.216.34", port: 443), declared: declared) == .rawAddress("93.184.216.34"))
        #expect(policy.refusal(of: ProxyTarget(host: "[::1]", port: 443), declared: declared) == .rawAddress("[::1]"))
    }
}

@Test("Every refusal's code is one of the fixed codes that metrics label with")
func refusalCodes() {
    let address = IPAddress("127.0.0.1")!
    let all: [EgressRefusal] = [
        .badRequest("x"), .rawAddress("1.2.3.4"), .undeclared(ProxyTarget(host: "a", port: 1)), .unresolved("a", reason: "x"),
        .refusedAddress(address, range: IPRange("127.0.0.0/8")!, widenable: false), .connectionLimit(1, concurrent: true),
        .byteLimit(1), .unreachable("x"), .placeholderUnbound(secret: "S", ProxyTarget(host: "a", port: 1)),
        .placeholderInURL(secret: "S"), .placeholderInBody(secret: "S"), .placeholderInPlainHTTP(secret: "S"), .upstreamTLS("x"),
    ]
    #expect(all.map(\.code) == EgressRefusal.codes)
}

/// Loads the repository's `policies/egress.json` through the daemon's loader.
enum PolicySetReader {
    static func egress() throws -> EgressPolicy {
        try Sandbox.PolicySet.load(from: Fixture.policies).egress
    }
}

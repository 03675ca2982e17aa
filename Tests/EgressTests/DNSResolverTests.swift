import Egress
import Foundation
import TestSupport
import Testing

@Suite("DNS resolver against a real name server")
struct DNSResolverTests {
    @Test("Answers (A and AAAA), a missing name, an answer that changes, a server that does not answer")
    func resolves() async throws {
        let network = try await TestNetwork.shared()
        let resolver = try DNSResolver(nameservers: [network.nameserver])
        #expect(try await resolver.resolve("api.test").get() == [IPAddress(network.api)!])
        #expect(try await resolver.resolve("API.test.").get() == [IPAddress(network.api)!])
        #expect(await resolver.resolve("missing.test") == .failure(.noSuchName))
        #expect(try await resolver.resolve("mixed.test").get().map(\.description) == [network.api, "127.0.0.1"])
        // AAAA records come back beside A records, in the answer the proxy vets.
        #expect(try await resolver.resolve("v6mixed.test").get().map(\.description) == [network.api, "fe80::1"])
        #expect(try await resolver.resolve("v6mapped.test").get().map(\.description) == ["::ffff:7f00:1"])
        // An answer that changes between queries: nothing is cached, each query gets the server's answer of the moment.
        #expect(try await resolver.resolve("changing.test").get() == [IPAddress(network.api)!])
        #expect(try await resolver.resolve("changing.test").get() == [IPAddress("127.0.0.1")!])

        // Nothing listens on port 9 of loopback: the query times out (or is refused), and says so.
        let silent = try DNSResolver(nameservers: ["127.0.0.1:9"], timeout: .milliseconds(300))
        let silentAnswer = await silent.resolve("api.test")
        guard case .failure = silentAnswer else { Issue.record("a silent server answered: \(silentAnswer)"); return }
        // The first server fails, the second answers.
        let fallback = try DNSResolver(nameservers: ["127.0.0.1:9", network.nameserver], timeout: .milliseconds(300))
        #expect(try await fallback.resolve("api.test").get() == [IPAddress(network.api)!])
    }

    @Test("Name servers must be addresses", arguments: ["dns.google", "1.2.3.4:0", "1.2.3.4:x", "[::1", "::1:53:"])
    func badNameserver(entry: String) {
        #expect(throws: DNSFailure.self) { try DNSResolver(nameservers: [entry]) }
    }

    @Test("resolv.conf's nameserver lines are read, nothing else")
    func resolvConf() throws {
        let path = Fixture.workRoot() + "/resolv.conf"
        try "# comment\nsearch example\nnameserver 10.0.0.2\nnameserver\t::1\noptions ndots:2\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(DNSResolver.systemNameservers(resolvConf: path) == ["10.0.0.2", "::1"])
    }
}

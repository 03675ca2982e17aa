@testable import Egress
import Foundation
import OAuth3Wire
import Sandbox
import SkillManifest
import SwiftASN1
import TestSupport
import Testing
import X509

/// Bound secrets end to end: a real skill in the real jail, its egress proxy intercepting its TLS, and
/// HTTPS hosts with their own CA in the test network's namespace (``TestNetwork``). The skill only ever
/// holds a placeholder; the hosts' logs show which credential arrived.
@Suite("Bound secrets", .serialized)
struct BoundSecretTests {
    /// Two HTTPS hosts: 8443 with a certificate for api.test and www.api.test from the CA the proxy is
    /// told to trust, 9443 with one for api.test from a CA nobody trusts.
    struct Hosts: Sendable {
        let network: TestNetwork
        let trustedCA: String
        let trustedLog: String
        let untrustedLog: String
    }

    static let started = Task { () throws -> Hosts in
        let network = try await TestNetwork.shared()
        let directory = Fixture.workRoot()
        let trusted = try TestPKI("bound-secret tests CA")
        let untrusted = try TestPKI("a CA nobody trusts")
        let good = try trusted.writeLeaf(for: ["api.test", "www.api.test"], to: directory)
        let bad = try untrusted.writeLeaf(for: ["api.test"], to: directory)
        return Hosts(
            network: network, trustedCA: try trusted.writeCertificate(to: directory),
            trustedLog: try await network.startTLSHost(port: 8443, certificate: good.certificate, key: good.key),
            untrustedLog: try await network.startTLSHost(port: 9443, certificate: bad.certificate, key: bad.key))
    }

    func run(_ source: String, bound: [BoundSecret]) async throws -> (RunResult, Hosts) {
        let hosts = try await Self.started.value
        let configuration = try Fixture.configuration(policies: hosts.network.policies) { $0.egressExtraTrustRoots = hosts.trustedCA }
        let result = try await Fixture.run(source, boundSecrets: bound, runner: try await SkillRunner(configuration: configuration))
        #expect(result.outcome == .ok, "\(result.stderr)")
        return (result, hosts)
    }

    func line(_ result: RunResult, _ label: String) -> String {
        result.stdout.split(separator: "\n").first { $0.hasPrefix(label + ": ") }.map { String($0.dropFirst(label.count + 2)) } ?? "(no line)"
    }

    static func bound(_ hosts: String...) -> BoundSecret {
        BoundSecret(
            name: "TOKEN", value: "tok-\(UUID().uuidString)", hosts: hosts.map { try! HostPattern.validate($0).get() })
    }

    @Test("The host receives the real value in Authorization; the skill saw only the placeholder")
    func substitution() async throws {
        let secret = Self.bound("api.test:8443")
        let before = TestNetwork.lines(of: try await Self.started.value.trustedLog).count
        let (result, hosts) = try await run("""
            // @skill bound
            // @secrets TOKEN
            // @network api.test:8443
            const token = Deno.env.get("TOKEN");
            console.log("env: " + token);
            console.error(JSON.stringify(Deno.env.toObject()));
            const r = await fetch("https://api.test:8443/hello?user=alice&page=2", { headers: { Authorization: `Bearer ${token}` } });
            console.log("status: " + r.status + " " + await r.text());
            const echoed = await fetch("https://api.test:8443/echo-authorization", { headers: { Authorization: token } });
            console.log("echoed: " + await echoed.text());
            """, bound: [secret])
        #expect(line(result, "env") == secret.placeholder)
        #expect(secret.placeholder.hasPrefix("oauth3-placeholder-TOKEN-") && secret.placeholder.count == "oauth3-placeholder-TOKEN-".count + 32)
        #expect(line(result, "status") == "200 ok /hello?user=alice&page=2")
        #expect(
            Array(TestNetwork.lines(of: hosts.trustedLog).dropFirst(before))
                == ["GET /hello?user=alice&page=2 api.test:8443 Bearer \(secret.value)", "GET /echo-authorization api.test:8443 \(secret.value)"])
        // A host that echoes the credential back hands the value to the skill: the output is redacted for it.
        #expect(line(result, "echoed") == "[REDACTED:TOKEN]")
        #expect(!result.stdout.contains(secret.value) && !result.stderr.contains(secret.value))
        #expect(result.stderr.contains(secret.placeholder), "the environment holds the placeholder")
        #expect(result.granted.env == ["TOKEN"])
        let transcript = try #require(result.network)
        #expect(transcript.connections.allSatisfy { $0.kind == "intercepted" } && !transcript.connections.isEmpty)
        #expect(
            transcript.requests == [
                .init(method: "GET", host: "api.test", port: 8443, path: "/hello?user=&page=", status: 200, substituted: ["TOKEN"]),
                .init(method: "GET", host: "api.test", port: 8443, path: "/echo-authorization", status: 200, substituted: ["TOKEN"]),
            ])
        #expect(transcript.refused.isEmpty)
        let encoded = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        #expect(!encoded.contains(secret.value) && encoded.contains("\"substituted\":[\"TOKEN\"]"))
    }

    @Test("A placeholder to an unbound declared host, in a URL, in a body, or over plain HTTP is refused, recorded, and never arrives")
    func refusals() async throws {
        let secret = Self.bound("api.test:8443")
        let network = try await Self.started.value.network
        let plainBefore = network.requests().count
        let before = TestNetwork.lines(of: try await Self.started.value.trustedLog).count
        let (result, hosts) = try await run("""
            // @skill refused
            // @secrets TOKEN
            // @network api.test:8443
            // @network www.api.test:8443
            // @network api.test:8080
            const token = Deno.env.get("TOKEN");
            const attempts = [
              ["unbound", () => fetch("https://www.api.test:8443/unbound", { headers: { Authorization: token } })],
              ["url", () => fetch(`https://api.test:8443/url?t=${token}`)],
              ["body", () => fetch("https://api.test:8443/body", { method: "POST", body: `t=${token}` })],
              ["plain", () => fetch("http://api.test:8080/plain", { headers: { Authorization: token } })],
              ["plainbody", () => fetch("http://api.test:8080/plainbody", { method: "POST", body: "t=" + token })],
              ["fine", () => fetch("https://www.api.test:8443/fine")],
            ];
            for (const [label, attempt] of attempts) {
              try { const r = await attempt(); await r.body?.cancel(); console.log(`${label}: ${r.status} ${r.headers.get("x-oauth3-egress-refused")}`); }
              catch (e) { console.log(`${label}: ${e.name} ${e.message}`); }
            }
            """, bound: [secret])
        #expect(line(result, "unbound") == "403 placeholder_unbound")
        #expect(line(result, "url") == "403 placeholder_in_url")
        #expect(line(result, "body") == "403 placeholder_in_body")
        #expect(line(result, "plain") == "403 placeholder_in_plain_http")
        // A body can reach the proxy after its head: then the proxy cuts the connection as the placeholder passes
        // (recorded below; ``PlaceholderScannerTests`` split it at every byte). The skill sees a 403, a failed
        // fetch, or what the host answered to the part before it; never a request the host took.
        #expect(!line(result, "plainbody").hasPrefix("200"), "\(line(result, "plainbody"))")
        #expect(line(result, "fine") == "200 null")
        #expect(Array(TestNetwork.lines(of: hosts.trustedLog).dropFirst(before)) == ["GET /fine www.api.test:8443 None"])
        #expect(!network.requests().dropFirst(plainBefore).contains { $0.contains("/plain") }, "neither plain-HTTP request was answered")
        let transcript = try #require(result.network)
        #expect(
            transcript.refused.map(\.code).sorted()
                == ["placeholder_in_body", "placeholder_in_plain_http", "placeholder_in_plain_http", "placeholder_in_url", "placeholder_unbound"])
        #expect(transcript.requests?.map(\.refusal) == ["placeholder_unbound", "placeholder_in_url", "placeholder_in_body", nil])
        #expect(transcript.requests?.map(\.path) == ["/unbound", "/url?t=", "/body", "/fine"])
        #expect(transcript.requests?.allSatisfy { $0.substituted.isEmpty } == true)
        #expect(!result.stdout.contains(secret.value) && !result.stderr.contains(secret.value))
    }

    @Test("The upstream is verified: a certificate from an untrusted CA, or for another name, fails the request before the job's TLS is accepted")
    func upstreamVerified() async throws {
        let secret = Self.bound("api.test:9443", "other.test:8443")
        let hosts = try await Self.started.value
        let (trustedBefore, untrustedBefore) = (TestNetwork.lines(of: hosts.trustedLog).count, TestNetwork.lines(of: hosts.untrustedLog).count)
        let (result, _) = try await run("""
            // @skill verified
            // @secrets TOKEN
            // @network api.test:9443
            // @network other.test:8443
            const token = Deno.env.get("TOKEN");
            for (const url of ["https://api.test:9443/ca", "https://other.test:8443/name"]) {
              try { const r = await fetch(url, { headers: { Authorization: token } }); console.log(`${url}: ok ${r.status}`); }
              catch (e) { console.log(`${url}: ${e.name}`); }
            }
            """, bound: [secret])
        #expect(line(result, "https://api.test:9443/ca") == "TypeError")
        #expect(line(result, "https://other.test:8443/name") == "TypeError")
        let transcript = try #require(result.network)
        #expect(transcript.refused.map(\.code) == ["upstream_tls", "upstream_tls"])
        #expect(transcript.connections.isEmpty)
        #expect(TestNetwork.lines(of: hosts.trustedLog).count == trustedBefore && TestNetwork.lines(of: hosts.untrustedLog).count == untrustedBefore)
    }

    @Test("A job without bound secrets is not intercepted: its CONNECT is a tunnel to the host's own certificate")
    func noInterception() async throws {
        let (result, _) = try await run("""
            // @skill plain
            // @network api.test:8443
            try { await fetch("https://api.test:8443/tunnel"); console.log("tls: ok"); }
            catch (e) { console.log("tls: " + e.name + " " + (e.cause?.message ?? e.message)); }
            """, bound: [])
        // Deno does not trust the test CA, and nothing gave it another: the certificate it saw was the host's.
        #expect(line(result, "tls").contains("UnknownIssuer"), "\(result.stdout)")
        let transcript = try #require(result.network)
        #expect(transcript.connections.map(\.kind) == ["connect"])
        #expect(transcript.requests == nil)
    }
}

/// The per-job authority on its own: what the job's Deno is asked to trust.
@Suite("Interception authority")
struct InterceptionAuthorityTests {
    @Test("The job's CA is name-constrained to its declared hosts, so it vouches for no other name even where it is trusted")
    func nameConstrained() throws {
        let hosts = try ["api.test:8443", "*.example.com"].map { try HostPattern.validate($0).get() }
        let authority = try InterceptionAuthority(hosts: hosts)
        let certificate = try Certificate(pemEncoded: authority.certificatePEM)
        let constraints = try #require(try certificate.extensions.nameConstraints)
        #expect(Array(constraints.permittedDNSDomains) == ["api.test", "example.com"])
        #expect(try certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        // A fresh key and certificate for every job: one job's CA means nothing to another's Deno.
        #expect(try InterceptionAuthority(hosts: hosts).certificatePEM != authority.certificatePEM)
        let empty = try Certificate(pemEncoded: try InterceptionAuthority(hosts: []).certificatePEM)
        #expect(Array(try #require(try empty.extensions.nameConstraints).permittedDNSDomains) == ["invalid"])
    }
}

/// The scanner that watches a plain-HTTP stream for placeholders, on its own.
@Suite("Placeholder scanner")
struct PlaceholderScannerTests {
    @Test("A placeholder split across two pieces at any byte is found; bytes without one are not flagged")
    func splitAnywhere() throws {
        let secret = BoundSecret(name: "TOKEN", value: "v", hosts: [])
        let stream = Array(("POST /x HTTP/1.1\r\n\r\nbody=" + secret.placeholder + "&more").utf8)
        for cut in 0...stream.count {
            var scanner = PlaceholderScanner([secret])
            let first = scanner.scan(stream[..<cut])
            let second = scanner.scan(stream[cut...])
            #expect((first ?? second)?.name == "TOKEN", "cut at \(cut)")
        }
        var clean = PlaceholderScanner([secret])
        let near = Array(secret.placeholder.dropLast().utf8)
        #expect(clean.scan(near) == nil && clean.scan(Array("x".utf8)) == nil)
    }
}

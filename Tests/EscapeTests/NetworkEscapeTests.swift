import Egress
import Foundation
import OAuth3Wire
import Sandbox
import TestSupport
import Testing

/// Escapes over the network, against real servers in a network namespace the test made (``TestNetwork``):
/// the job's only way out is the egress proxy, which admits declared names that resolve outside the
/// refused ranges, and nothing else. Each escape runs in both modes, so the proxy and the namespace are
/// shown to hold even when Deno's own `--allow-net` is switched off.
@Suite("Network escapes", .serialized)
struct NetworkEscapeTests {
    /// JavaScript that tries each `[label, () => promise]` and prints `label: ok DETAIL` or `label: ERRORNAME MESSAGE`.
    static func attempts(_ body: String) -> String {
        """
        const attempts = [\(body)];
        for (const [label, attempt] of attempts) {
          try { console.log(`${label}: ok ${String(await attempt()).slice(0, 120)}`); }
          catch (e) { console.log(`${label}: ${e.name} ${String(e.cause?.message ?? e.message).slice(0, 200)}`); }
        }
        """
    }

    func run(_ mode: EscapeMode, hosts: [String], _ body: String) async throws -> (RunResult, TestNetwork) {
        let network = try await TestNetwork.shared()
        let configuration = try Fixture.configuration(policies: network.policies) { mode.configure(&$0) }
        let header = "// @skill net\n" + hosts.map { "// @network \($0)\n" }.joined()
        let result = try await mode.run(header + Self.attempts(body), runner: try await SkillRunner(configuration: configuration))
        #expect(result.outcome == .ok, "\(result.stderr)")
        return (result, network)
    }

    func line(_ result: RunResult, _ label: String) -> String {
        lines(result).first { $0.hasPrefix(label + ": ") }.map { String($0.dropFirst(label.count + 2)) } ?? "(no line)"
    }

    @Test("A declared host answers through the proxy, and the transcript records the connection", arguments: EscapeMode.allCases)
    func declaredHost(mode: EscapeMode) async throws {
        let before = try await TestNetwork.shared().requests().count
        let (result, network) = try await run(mode, hosts: ["api.test:8080"], """
            ["get", async () => { const r = await fetch("http://api.test:8080/hello"); return r.status + " " + await r.text(); }]
            """)
        #expect(line(result, "get") == "ok 200 hello from api.test:8080")
        #expect(result.sandbox.network == "proxy")
        let transcript = try #require(result.network)
        #expect(transcript.refused.isEmpty)
        let connection = try #require(transcript.connections.first)
        #expect(transcript.connections.count == 1)
        #expect(connection.host == "api.test" && connection.port == 8080 && connection.address == network.api)
        #expect(connection.kind == "http" && connection.end == "closed")
        #expect(connection.bytesReceived > "hello from api.test:8080".utf8.count && connection.bytesSent > 0)
        #expect(transcript.totalBytes == connection.bytesSent + connection.bytesReceived)
        // This job's request, not an earlier test's: the test host's log is shared by every test.
        #expect(Array(network.requests().dropFirst(before)) == ["GET /hello api.test:8080"])
    }

    @Test("HTTPS goes through a CONNECT tunnel to the vetted address (here the server speaks no TLS, so the fetch fails after it)")
    func connectTunnel() async throws {
        let (result, network) = try await run(.realistic, hosts: ["api.test:8080"], """
            ["tls", () => fetch("https://api.test:8080/hello")]
            """)
        #expect(line(result, "tls").hasPrefix("TypeError"))
        let connection = try #require(result.network?.connections.first)
        #expect(connection.kind == "connect" && connection.address == network.api && connection.bytesSent > 0)
    }

    @Test("A ws:// WebSocket handshake passes through the proxy with its upgrade; node:http, which ignores HTTP_PROXY, finds no resolver")
    func otherClients() async throws {
        let before = try await TestNetwork.shared().requests().count
        let (result, network) = try await run(.realistic, hosts: ["api.test:8080"], """
            ["websocket", () => new Promise((resolve, reject) => {
              const socket = new WebSocket("ws://api.test:8080/ws");
              socket.onopen = () => { socket.close(); resolve("open"); };
              socket.onerror = (e) => reject(new Error(e.message));
            })],
            ["node-http", async () => {
              const http = await import("node:http");
              return await new Promise((resolve, reject) => http.get("http://api.test:8080/hello", (r) => resolve(r.statusCode)).on("error", reject));
            }],
            """)
        #expect(line(result, "websocket") == "ok open")
        #expect(line(result, "node-http").contains("EAI_AGAIN"), "\(line(result, "node-http"))")
        #expect(result.network?.connections.map(\.kind) == ["http"])
        #expect(Array(network.requests().dropFirst(before)) == ["GET /ws api.test:8080"])
    }

    @Test("Undeclared hosts, raw addresses and redirects elsewhere are refused", arguments: EscapeMode.allCases)
    func undeclared(mode: EscapeMode) async throws {
        let network = try await TestNetwork.shared()
        let before = network.requests().count
        let (result, _) = try await run(mode, hosts: ["api.test:8080"], """
            ["undeclared", () => fetch("http://other.test:8080/hello").then((r) => r.status + " " + r.headers.get("x-oauth3-egress-refused"))],
            ["raw", () => fetch("http://\(network.other):8080/hello").then((r) => r.status + " " + r.headers.get("x-oauth3-egress-refused"))],
            ["redirect", () => fetch("http://api.test:8080/redirect?to=http://other.test:8080/hello").then((r) => r.status + " " + r.headers.get("x-oauth3-egress-refused"))],
            """)
        if mode.isRealistic {
            // Deno's own check stops the first two before the proxy, and the redirect at its second hop.
            #expect(line(result, "undeclared").hasPrefix("NotCapable"))
            #expect(line(result, "raw").hasPrefix("NotCapable"))
            #expect(line(result, "redirect").hasPrefix("NotCapable"))
            #expect(result.network?.refused.isEmpty == true)
        } else {
            #expect(line(result, "undeclared") == "ok 403 undeclared")
            #expect(line(result, "raw") == "ok 403 raw_address")
            #expect(line(result, "redirect") == "ok 403 undeclared")
            #expect(result.network?.refused.map(\.code) == ["undeclared", "raw_address", "undeclared"])
            #expect(result.network?.refused.map { $0.host ?? "" } == ["other.test", network.other, "other.test"])
        }
        // Only the first hop of the redirect ever reached a server.
        #expect(Array(network.requests().dropFirst(before)) == ["GET /redirect api.test:8080"])
        #expect(result.network?.connections.map(\.host) == ["api.test"])
    }

    @Test("Declared names that resolve to loopback, metadata, unwidened private or mixed addresses are refused", arguments: EscapeMode.allCases)
    func refusedAddresses(mode: EscapeMode) async throws {
        let network = try await TestNetwork.shared()
        let before = network.requests().count
        let names = ["local.test", "metadata.test", "unwidened.test", "mixed.test"]
        let (result, _) = try await run(mode, hosts: names.map { "\($0):8080" }, names.map { name in
            #"["\#(name)", () => fetch("http://\#(name):8080/hello").then((r) => r.status + " " + r.headers.get("x-oauth3-egress-refused"))]"#
        }.joined(separator: ",\n"))
        for name in names { #expect(line(result, name) == "ok 403 refused_address", "\(name)") }
        let reasons = result.network?.refused.map(\.reason) ?? []
        #expect(reasons.count == 4)
        #expect(reasons[0].contains("127.0.0.1") && reasons[0].contains("never reachable"))
        #expect(reasons[1].contains("169.254.169.254") && reasons[1].contains("never reachable"))
        #expect(reasons[2].contains(network.api) && reasons[2].contains("10.0.0.0/8") && !reasons[2].contains("never"))
        #expect(reasons[3].contains("127.0.0.1"))
        #expect(result.network?.connections.isEmpty == true)
        #expect(network.requests().count == before)
    }

    @Test("IPv6 answers are vetted like IPv4 ones: AAAA records to ::1, a mapped loopback, AWS's metadata, or link-local beside a good A record", arguments: EscapeMode.allCases)
    func refusedIPv6Answers(mode: EscapeMode) async throws {
        let network = try await TestNetwork.shared()
        let before = network.requests().count
        let names = ["v6loopback.test", "v6mapped.test", "v6metadata.test", "v6mixed.test"]
        let (result, _) = try await run(mode, hosts: names.map { "\($0):8080" }, names.map { name in
            #"["\#(name)", () => fetch("http://\#(name):8080/hello").then((r) => r.status + " " + r.headers.get("x-oauth3-egress-refused"))]"#
        }.joined(separator: ",\n"))
        for name in names { #expect(line(result, name) == "ok 403 refused_address", "\(name)") }
        let reasons = result.network?.refused.map(\.reason) ?? []
        #expect(reasons.count == 4, "\(reasons)")
        for (index, address) in ["::1", "::ffff:7f00:1", "fd00:ec2::254", "fe80::1"].enumerated() where index < reasons.count {
            #expect(reasons[index].contains(address) && reasons[index].contains("never reachable"), "\(reasons[index])")
        }
        #expect(result.network?.connections.isEmpty == true)
        #expect(network.requests().count == before)
    }

    @Test("A secret spelt into a host name does not reach the result: the transcript is redacted like stdout", arguments: EscapeMode.allCases)
    func secretInHostName(mode: EscapeMode) async throws {
        let network = try await TestNetwork.shared()
        let configuration = try Fixture.configuration(policies: network.policies) { mode.configure(&$0) }
        let attempt = #"["leak", () => fetch(`http://${Deno.env.get("TOKEN")}.api.test:8080/hello`).then((r) => r.status)]"#
        let source = "// @skill leak\n// @network *.api.test:8080\n// @secrets TOKEN\n" + Self.attempts(attempt)
        let result = try await mode.run(source, secrets: ["TOKEN": "LeakMe1234"], runner: try await SkillRunner(configuration: configuration))
        #expect(line(result, "leak") == "ok 502")  // declared by the wildcard, but the name does not resolve
        let refusal = try #require(result.network?.refused.first)
        #expect(refusal.host == "[REDACTED:TOKEN].api.test" && refusal.reason.contains("[REDACTED:TOKEN].api.test"), "\(refusal)")
        let document = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        #expect(!document.lowercased().contains("leakme1234"))
    }

    @Test("A name whose answer changes between requests is checked again each time: the second answer is refused")
    func rebinding() async throws {
        let (result, network) = try await run(.realistic, hosts: ["rebind.test:8080"], """
            ["first", () => fetch("http://rebind.test:8080/hello").then((r) => r.status)],
            ["second", () => fetch("http://rebind.test:8080/hello").then((r) => r.status + " " + r.headers.get("x-oauth3-egress-refused"))],
            """)
        #expect(line(result, "first") == "ok 200")
        #expect(line(result, "second") == "ok 403 refused_address")
        #expect(result.network?.connections.map(\.address) == [network.api])
        #expect(result.network?.refused.first?.reason.contains("127.0.0.1") == true)
    }

    @Test("Direct connections, the job's own DNS queries and unix sockets fail from inside", arguments: EscapeMode.allCases)
    func directPaths(mode: EscapeMode) async throws {
        let network = try await TestNetwork.shared()
        let stubPort = network.nameserver.split(separator: ":").last!
        let (result, _) = try await run(mode, hosts: ["api.test:8080"], """
            ["connect", () => Deno.connect({ hostname: "\(network.api)", port: 8080 })],
            ["dns", () => Deno.resolveDns("api.test", "A", { signal: AbortSignal.timeout(1000) })],
            // The stub's port on the job's own loopback: nothing there (the stub is on the host's loopback).
            ["dns-stub", () => Deno.resolveDns("api.test", "A", { nameServer: { ipAddr: "127.0.0.1", port: \(stubPort) }, signal: AbortSignal.timeout(1000) })],
            ["unix", () => Deno.connect({ transport: "unix", path: "/run/oauth3/egress.sock" })],
            ["bridge", async () => {
              const c = await Deno.connect({ hostname: "127.0.0.1", port: 3128 });
              await c.write(new TextEncoder().encode("CONNECT other.test:8080 HTTP/1.1\\r\\n\\r\\n"));
              const b = new Uint8Array(200); const n = await c.read(b); c.close();
              return new TextDecoder().decode(b.subarray(0, n ?? 0)).split("\\r\\n")[0];
            }],
            """)
        if mode.isRealistic {
            for label in ["connect", "dns-stub", "unix", "bridge"] { #expect(line(result, label).hasPrefix("NotCapable"), "\(label)") }
            // Deno reads resolv.conf before it checks the permission; there is none in the job's root.
            #expect(line(result, "dns").contains("No such file"), "\(line(result, "dns"))")
        } else {
            // The OS layers alone: no route but loopback, no resolver, no unix sockets (seccomp), and the
            // bridge leads only to the proxy, which refuses what was not declared.
            #expect(line(result, "connect").hasPrefix("ConnectionRefused") || line(result, "connect").contains("unreachable"), "\(line(result, "connect"))")
            #expect(!line(result, "dns").hasPrefix("ok"))
            #expect(!line(result, "dns-stub").hasPrefix("ok"))
            #expect(line(result, "unix").hasPrefix("PermissionDenied"), "\(line(result, "unix"))")
            #expect(line(result, "bridge") == "ok HTTP/1.1 403 Forbidden")
            #expect(result.network?.refused.map(\.code) == ["undeclared"])
        }
        #expect(result.network?.connections.isEmpty == true)
    }

    @Test("A job without @network has loopback alone: no proxy, no bridge, no route", arguments: EscapeMode.allCases)
    func offline(mode: EscapeMode) async throws {
        let network = try await TestNetwork.shared()
        let (result, _) = try await run(mode, hosts: [], """
            ["fetch", () => fetch("http://api.test:8080/hello")],
            ["connect", () => Deno.connect({ hostname: "\(network.api)", port: 8080 })],
            ["bridge", () => Deno.connect({ hostname: "127.0.0.1", port: 3128 })],
            """)
        #expect(result.sandbox.network == "loopback")
        #expect(result.network == nil)
        for label in ["fetch", "connect", "bridge"] {
            #expect(!line(result, label).hasPrefix("ok"), "\(label): \(line(result, label))")
        }
        if !mode.isRealistic {
            #expect(line(result, "bridge").hasPrefix("ConnectionRefused"), "\(line(result, "bridge"))")
        }
    }
}

import Foundation
import OAuth3Wire
import Sandbox
import TestSupport
import Testing

/// Escapes through processes, sockets and other jobs.
@Suite("Escapes: processes and sockets", .timeLimit(.minutes(3)))
struct ProcessEscapeTests {
    @Test("Spawning a process fails: Deno.Command and node:child_process", arguments: EscapeMode.allCases)
    func spawning(mode: EscapeMode) async throws {
        let result = try await mode.run(
            """
            // @skill spawn
            import { spawnSync } from "node:child_process"
            try { new Deno.Command("/usr/bin/deno", { args: ["--version"] }).outputSync(); console.log("spawned") } catch (e) { console.log(e.name) }
            try {
              const child = spawnSync("/usr/bin/deno", ["--version"])
              console.log(child.status === 0 ? "spawned" : `failed ${child.error?.code ?? child.status}`)
            } catch (e) { console.log(e.name) }
            """)
        #expect(!result.stdout.contains("spawned"), "\(result.stdout)")
        // node's spawnSync does not throw for a refused spawn: in the realistic mode Deno's --deny-run refuses
        // it (status undefined, no error), in the layers-only mode the jail does.
        #expect(lines(result) == (mode.isRealistic ? ["NotCapable", "failed undefined"] : ["PermissionDenied", "failed undefined"]), "\(result.stdout)")
    }

    @Test("A unix socket standing for /var/run/dstack.sock is unreachable, and hears nothing", arguments: EscapeMode.allCases)
    func dstackSocket(mode: EscapeMode) async throws {
        let listener = try UnixListener(path: Fixture.workRoot() + "/dstack.sock")
        let result = try await mode.run(
            """
            // @skill dstack
            for (const path of ["\(listener.path)", "/var/run/dstack.sock", "/var/run/tappd.sock"]) {
              try { await Deno.connect({ transport: "unix", path }); console.log("connected") } catch (e) { console.log(e.name) }
            }
            """)
        #expect(!result.stdout.contains("connected"), "\(result.stdout)")
        #expect(lines(result) == Array(repeating: mode.isRealistic ? "NotCapable" : "PermissionDenied", count: 3), "\(result.stdout)")
        #expect(listener.acceptedConnections() == 0)
    }

    @Test("DNS queries of its own and TCP to the host's loopback fail (vsock: see the probe tests)", arguments: EscapeMode.allCases)
    func network(mode: EscapeMode) async throws {
        let listener = try TCPListener()
        let result = try await mode.run(
            """
            // @skill net
            const attempts = [
              () => Deno.resolveDns("example.com", "A"),
              () => Deno.connect({ hostname: "127.0.0.1", port: \(listener.port) }),
              () => fetch("http://127.0.0.1:\(listener.port)/"),
            ]
            for (const attempt of attempts) { try { await attempt(); console.log("reached") } catch (e) { console.log(e.name) } }
            """)
        #expect(!result.stdout.contains("reached"), "\(result.stdout)")
        #expect(lines(result).count == 3)
        // resolveDns finds no resolver in either mode (no /etc/resolv.conf in any job). The job's own loopback
        // is up but empty: the host's listener on the same port is not there.
        #expect(lines(result) == (mode.isRealistic ? ["Error", "NotCapable", "NotCapable"] : ["Error", "ConnectionRefused", "TypeError"]))
        #expect(listener.acceptedConnections() == 0)
    }

    // Unbooted modes only: the test knows the holder runs by its secret in /proc/PID/environ, where a booted Deno
    // never has it (BootedJailTests: its environment holds Deno's settings alone).
    @Test("One job's secret is never visible to another job running at the same time", arguments: [EscapeMode.realistic, .layersOnly])
    func secretsBetweenJobs(mode: EscapeMode) async throws {
        let secret = "neighbour-\(UUID().uuidString)"
        let runner = try await mode.runner()
        async let holder = Fixture.run(
            "// @skill holder\n// @secrets HELD\n// @timeout 10\nawait new Promise((r) => setTimeout(r, 1500))\nconsole.log('held', Deno.env.get('HELD')!.length)\n",
            secrets: ["HELD": secret], runner: runner)
        // The holder's Deno has the secret in its environment once it runs: snoop only then.
        try await waitUntil("the holder runs") { !Fixture.processes(withEnvironmentContaining: secret).isEmpty }
        let snoop = try await Fixture.run(
            """
            // @skill snoop
            const found = []
            try {
              for (const entry of Deno.readDirSync("/proc")) {
                for (const file of ["environ", "cmdline"]) {
                  try { if (Deno.readTextFileSync(`/proc/${entry.name}/${file}`).includes("\(secret.prefix(10))")) found.push(entry.name) } catch {}
                }
              }
            } catch (e) { console.log(e.name) }
            console.log("found", found.length)
            """, runner: runner)
        #expect(!snoop.stdout.contains(secret))
        #expect(lines(snoop).last == "found 0", "\(snoop.stdout)")
        let held = try await holder
        #expect(held.stdout == "held \(secret.count)\n")
    }
}

/// A unix-socket listener that counts the connections it was offered.
final class UnixListener {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        self.fd = fd
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes.prefix(raw.count - 1))
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        chmod(path, 0o777)  // even world-writable, it must stay out of reach
    }

    /// Connections waiting to be accepted (each accepted and closed).
    func acceptedConnections() -> Int {
        var count = 0
        while case let client = accept(fd, nil, nil), client >= 0 {
            close(client)
            count += 1
        }
        return count
    }

    deinit {
        close(fd)
        unlink(path)
    }
}

/// A TCP listener on the host's 127.0.0.1 that counts the connections it was offered.
final class TCPListener {
    let port: UInt16
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { throw POSIXError(.EADDRINUSE) }
        port = UInt16(bigEndian: address.sin_port)
    }

    func acceptedConnections() -> Int {
        var count = 0
        while case let client = accept(fd, nil, nil), client >= 0 {
            close(client)
            count += 1
        }
        return count
    }

    deinit { close(fd) }
}

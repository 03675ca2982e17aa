import ArgumentParser
import Egress
import Foundation
import NIOCore
import NIOPosix
import OAuth3Wire
import Sandbox
import SkillManifest
import Subprocess
import SystemPackage

/// `oauth3-enclave bench-egress`: what the egress path costs a download, on loopback.
///
/// Two comparisons, medians on a monotonic clock:
/// 1. the proxy alone: a client fetching from a loopback server directly, and through a job's egress proxy
///    (unix socket in, vetted TCP out); latency of a small request and throughput of a large one;
/// 2. the whole path a skill uses: `fetch` in bare Deno straight to the server, against `fetch` in a sandboxed
///    job (Deno → the jail's bridge → unix socket → proxy → server), timed inside Deno;
/// 3. what TLS interception (a job holding bound secrets) adds to one HTTPS request (``InterceptionBench``).
/// The server is on loopback, which the proxy's floor refuses; the benchmark alone lifts the floor.
struct EgressBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-egress", abstract: "Measure the egress proxy's added latency and its throughput against a direct download.")

    @Option(help: "Size of the large download, in MiB.") var sizeMib = 256
    @Option(help: "Small requests per path, for latency.") var requests = 200
    @Option(help: "Large downloads per path, for throughput.") var downloads = 5
    @OptionGroup var installation: Installation.Options

    func run() async throws {
        let server = try await EgressBenchServer()
        defer { Task { await server.close() } }
        let port = server.port
        let size = sizeMib << 20
        let policy = EgressPolicy(refusedRanges: [], maxConnections: .max, maxConcurrentConnections: 64, maxBytes: .max).unsafeWithoutFloor()
        let resolver = StaticNameResolver(["bench.test": [IPAddress("127.0.0.1")!]])
        let manifest = try SkillManifest.parse("// @skill bench\n// @network bench.test:\(port)\n")
        let proxy = EgressProxy(declared: manifest.network, policy: policy, resolver: resolver)
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("oauth3-bench-egress-\(getpid()).sock").path
        let requests = requests, downloads = downloads

        print("1. the proxy alone (in-process client, loopback server on port \(port))")
        let (measured, _) = try await proxy.serve(at: socket, owner: (getuid(), getgid())) {
            await Result {
                var small: [String: [Double]] = [:], large: [String: [Double]] = [:]
                for round in 0..<(requests + 10) {
                    let direct = try await Stopwatch.milliseconds { _ = try await Self.fetch(.tcp(port), path: "/bytes/100") }
                    let proxied = try await Stopwatch.milliseconds { _ = try await Self.fetch(.proxy(socket, port), path: "/bytes/100") }
                    if round >= 10 { small["direct", default: []].append(direct); small["proxy", default: []].append(proxied) }
                }
                for _ in 0..<downloads {
                    var received = 0
                    let direct = try await Stopwatch.milliseconds { received = try await Self.fetch(.tcp(port), path: "/bytes/\(size)") }
                    guard received >= size else { throw ValidationError("direct download cut short: \(received) bytes") }
                    let proxied = try await Stopwatch.milliseconds { received = try await Self.fetch(.proxy(socket, port), path: "/bytes/\(size)") }
                    guard received >= size else { throw ValidationError("proxied download cut short: \(received) bytes") }
                    large["direct", default: []].append(direct)
                    large["proxy", default: []].append(proxied)
                }
                return (small, large)
            }
        }
        let (small, large) = try measured.get()
        let mib = Double(size) / Double(1 << 20)
        print(Self.row("request of 100 bytes, direct (median of \(requests))", Stopwatch.median(small["direct"]!), "ms"))
        print(Self.row("request of 100 bytes, through the proxy", Stopwatch.median(small["proxy"]!), "ms"))
        print(Self.row("  added latency", Stopwatch.median(small["proxy"]!) - Stopwatch.median(small["direct"]!), "ms"))
        print(Self.row("download of \(sizeMib) MiB, direct (median of \(downloads))", mib / (Stopwatch.median(large["direct"]!) / 1000), "MiB/s"))
        print(Self.row("download of \(sizeMib) MiB, through the proxy", mib / (Stopwatch.median(large["proxy"]!) / 1000), "MiB/s"))

        print("2. a skill's fetch: bare Deno to the server, against a sandboxed job through bridge and proxy")
        let located = try Installation.locate(installation)
        var sandbox = try located.sandboxConfiguration(installation, policy: try PolicySet.load(from: located.policyDirectory))
        sandbox.policy.egress = policy
        sandbox.egressResolver = resolver
        let runner = try await SkillRunner(configuration: sandbox)
        let script = { (host: String) in
            """
            const times = [];
            for (let i = 0; i < 30; i++) {
              const t = performance.now(); await (await fetch("http://\(host):\(port)/bytes/100")).arrayBuffer(); times.push(performance.now() - t);
            }
            times.sort((a, b) => a - b);
            let bytes = 0; const t = performance.now();
            const reader = (await fetch("http://\(host):\(port)/bytes/\(size)")).body.getReader();
            for (;;) { const { done, value } = await reader.read(); if (done) break; bytes += value.length; }
            const seconds = (performance.now() - t) / 1000;
            console.log(JSON.stringify({ latency: times[15], mibps: bytes / 1048576 / seconds, bytes }));
            """
        }
        let bare = try await Subprocess.run(
            .path(FilePath(located.denoPath)), arguments: ["run", "--no-prompt", "--allow-net=127.0.0.1:\(port)", "-"],
            environment: .custom([Array("NO_COLOR=1\0".utf8)]), input: .string(script("127.0.0.1")), output: .string(limit: 1 << 16),
            error: .string(limit: 1 << 16))
        let source = "// @skill bench\n// @network bench.test:\(port)\n// @timeout 120\n" + script("bench.test")
        let job = SkillJob(source: Array(source.utf8), manifest: try SkillManifest.parse(source), secrets: [:])
        let jailed = try await runner.run(job)
        guard jailed.success, let bareStats = Self.stats(bare.standardOutput), let jailStats = Self.stats(jailed.stdout) else {
            throw ValidationError("a Deno run failed: bare \(bare.standardError) / sandboxed \(jailed.outcome) \(jailed.stderr)")
        }
        print(Self.row("fetch of 100 bytes, bare Deno (median of 30)", bareStats.latency, "ms"))
        print(Self.row("fetch of 100 bytes, sandboxed job", jailStats.latency, "ms"))
        print(Self.row("  added latency", jailStats.latency - bareStats.latency, "ms"))
        print(Self.row("download of \(sizeMib) MiB, bare Deno", bareStats.mibps, "MiB/s"))
        print(Self.row("download of \(sizeMib) MiB, sandboxed job", jailStats.mibps, "MiB/s"))
        print(Self.row("  transcript of the sandboxed job: bytes received", Double(jailed.network?.connections.last?.bytesReceived ?? 0), "B"))

        print("3. a job holding a bound secret: one HTTPS request through a tunnel, and through interception")
        try await InterceptionBench.run(requests: requests, policy: policy)
    }

    enum Path {
        case tcp(Int)
        case proxy(String, Int)
    }

    /// One GET; returns the bytes of the response (head and body) read until the server closes.
    static func fetch(_ path: Path, path target: String) async throws -> Int {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        let request: String
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        let wrap: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        switch path {
        case .tcp(let port):
            channel = try await bootstrap.connect(host: "127.0.0.1", port: port, channelInitializer: wrap)
            request = "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n"
        case .proxy(let socket, let port):
            channel = try await bootstrap.connect(unixDomainSocketPath: socket, channelInitializer: wrap)
            request = "GET http://bench.test:\(port)\(target) HTTP/1.1\r\n\r\n"
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var count = 0
            for try await chunk in inbound { count += chunk.readableBytes }
            return count
        }
    }

    static func row(_ label: String, _ value: Double, _ unit: String) -> String {
        label.padding(toLength: 60, withPad: " ", startingAt: 0) + String(format: "%9.2f %@", value, unit)
    }

    static func stats(_ line: String) -> (latency: Double, mibps: Double)? {
        guard let data = line.split(separator: "\n").last.map({ Data($0.utf8) }),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let latency = object["latency"] as? Double, let mibps = object["mibps"] as? Double
        else { return nil }
        return (latency, mibps)
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

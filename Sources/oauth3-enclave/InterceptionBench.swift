import Egress
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SkillManifest

/// The third part of `bench-egress`: what intercepting a job's TLS (for a job holding bound secrets) adds
/// to one HTTPS request, against the plain `CONNECT` tunnel every other job gets.
///
/// In process, as part 1: an HTTPS server on loopback (its certificate from a throwaway CA), one proxy that
/// tunnels and one that intercepts (a per-job CA, the server's CA as extra upstream trust, one bound
/// secret), and a client that sends `CONNECT`, then TLS, then one `GET` with the placeholder in a header.
enum InterceptionBench {
    static func run(requests: Int, policy: EgressPolicy) async throws {
        let host = try HostPattern.validate("bench.test:443").get()
        let serverAuthority = try InterceptionAuthority(hosts: [host])
        let server = try await EgressBenchServer(tls: try serverAuthority.serverContext(for: "bench.test"))
        defer { Task { await server.close() } }
        let port = server.port
        let declared = [try HostPattern.validate("bench.test:\(port)").get()]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oauth3-bench-tls-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let serverCA = directory + "/server-ca.pem"
        try serverAuthority.certificatePEM.write(toFile: serverCA, atomically: true, encoding: .utf8)

        let resolver = StaticNameResolver(["bench.test": [IPAddress("127.0.0.1")!]])
        let secret = BoundSecret(name: "BENCH_TOKEN", value: "bench-value", hosts: declared)
        let jobAuthority = try InterceptionAuthority(hosts: declared)
        let interception = try EgressInterception(secrets: [secret], authority: jobAuthority, extraTrustRootsPEM: serverCA)
        let tunnel = EgressProxy(declared: declared, policy: policy, resolver: resolver)
        let intercepting = EgressProxy(declared: declared, policy: policy, resolver: resolver, interception: interception)
        // What each client trusts: through the tunnel, the server itself; intercepted, the job's own CA.
        let trustServer = try client(trusting: serverAuthority.certificatePEM)
        let trustJob = try client(trusting: jobAuthority.certificatePEM)

        var times: [String: [Double]] = [:]
        for (label, proxy, context) in [("tunnel", tunnel, trustServer), ("intercepted", intercepting, trustJob)] {
            let socket = directory + "/\(label).sock"
            let (measured, _) = try await proxy.serve(at: socket, owner: (getuid(), getgid())) {
                await Result {
                    var samples: [Double] = []
                    for round in 0..<(requests + 10) {
                        let elapsed = try await Stopwatch.milliseconds {
                            let count = try await fetch(socket: socket, port: port, context: context, authorization: secret.placeholder)
                            guard count > 100 else { throw BenchFailure("\(label): \(count) bytes") }
                        }
                        if round >= 10 { samples.append(elapsed) }
                    }
                    return samples
                }
            }
            times[label] = try measured.get()
        }
        let tunnelled = Stopwatch.median(times["tunnel"]!), intercepted = Stopwatch.median(times["intercepted"]!)
        print(EgressBenchCommand.row("HTTPS request (CONNECT, TLS, GET), tunnel (median of \(requests))", tunnelled, "ms"))
        print(EgressBenchCommand.row("the same, intercepted (bound secret substituted)", intercepted, "ms"))
        print(EgressBenchCommand.row("  added latency of interception", intercepted - tunnelled, "ms"))
    }

    static func client(trusting pem: String) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
        configuration.applicationProtocols = ["http/1.1"]
        return try NIOSSLContext(configuration: configuration)
    }

    /// `CONNECT`, then TLS over the same connection, then one `GET /bytes/100`; the plaintext bytes of the answer.
    static func fetch(socket: String, port: Int, context: NIOSSLContext, authorization: String) async throws -> Int {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: socket) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "CONNECT bench.test:\(port) HTTP/1.1\r\nHost: bench.test:\(port)\r\n\r\n"))
            var responses = inbound.makeAsyncIterator()
            var head = ""
            while !head.contains("\r\n\r\n"), let chunk = try await responses.next() { head += String(buffer: chunk) }
            guard head.hasPrefix("HTTP/1.1 200") else { throw BenchFailure("CONNECT refused: \(head.prefix(200))") }
            // From here on the connection is TLS: the handler goes in front of the async channel's.
            let raw = channel.channel
            try await raw.eventLoop.submit {
                try raw.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: "bench.test"), position: .first)
            }.get()
            try await outbound.write(
                ByteBuffer(string: "GET /bytes/100 HTTP/1.1\r\nHost: bench.test:\(port)\r\nAuthorization: Bearer \(authorization)\r\nConnection: close\r\n\r\n"))
            var count = 0
            do {
                while let chunk = try await responses.next() { count += chunk.readableBytes }
            } catch let error as NIOSSLError where error == .uncleanShutdown {
                // The proxy (or server) closed without close_notify after the whole answer: the count stands.
            }
            return count
        }
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

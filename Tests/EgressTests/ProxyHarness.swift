import Egress
import Foundation
import NIOCore
import NIOPosix
import OAuth3Wire
import SkillManifest

/// An echo server on loopback: writes back whatever it reads, and closes once the client half-closes.
final class EchoServer: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    init() async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { $0.pipeline.addHandler(EchoHandler()) }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    deinit { channel.close(promise: nil) }

    private final class EchoHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(data, promise: nil)
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is ChannelEvent, case .inputClosed = event as! ChannelEvent { context.close(promise: nil) }
        }
    }
}

/// Runs a proxy for `declared` on a fresh socket while `body` uses it; returns the body's value and the transcript.
func withProxy<T: Sendable>(
    declared: [String], policy: EgressPolicy, resolver: any NameResolver, _ body: @escaping @Sendable (String) async throws -> T
) async throws -> (T, NetworkTranscript) {
    let manifest = try SkillManifest.parse("// @skill t\n" + declared.map { "// @network \($0)\n" }.joined())
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("egress-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let socket = directory + "/egress.sock"
    let proxy = EgressProxy(declared: manifest.network, policy: policy, resolver: resolver)
    let (result, transcript) = try await proxy.serve(at: socket, owner: (getuid(), getgid())) {
        await Result { try await body(socket) }
    }
    return (try result.get(), transcript)
}

/// Sends `bytes` over a fresh connection to the proxy's socket, optionally half-closes, and reads until
/// the proxy closes (or `limit` bytes).
func exchange(_ socket: String, _ bytes: [UInt8], halfClose: Bool = true, limit: Int = 1 << 24) async throws -> [UInt8] {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelOption(.allowRemoteHalfClosure, value: true)
        .connect(unixDomainSocketPath: socket) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
            }
        }
    return try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(bytes: bytes))
        if halfClose { outbound.finish() }
        var received: [UInt8] = []
        do {
            for try await chunk in inbound {
                received += chunk.readableBytesView
                if received.count >= limit { break }
            }
        } catch let error as IOError where error.errnoCode == ECONNRESET {
            // The proxy cut the connection (a budget): what arrived before is the answer.
        }
        return received
    }
}

/// Opens a connection to the proxy's socket, sends `request`, and keeps the connection open until the proxy
/// closes it. `ready` yields once `expected` bytes have come back (the tunnel is established and carried
/// them): the readiness signal a test waits for instead of sleeping.
func holdConnection(_ socket: String, _ request: [UInt8], readyAfter expected: Int) -> (ready: AsyncStream<Void>, done: Task<[UInt8], any Error>) {
    let (ready, signal) = AsyncStream.makeStream(of: Void.self)
    let done = Task {
        defer { signal.finish() }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(unixDomainSocketPath: socket) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: request))
            var received: [UInt8] = []
            do {
                for try await chunk in inbound {
                    let before = received.count
                    received += chunk.readableBytesView
                    if before < expected && received.count >= expected { signal.yield() }
                }
            } catch let error as IOError where error.errnoCode == ECONNRESET {}
            return received
        }
    }
    return (ready, done)
}

extension AsyncStream where Element == Void {
    /// Waits for the first signal (or the end of the stream).
    func first() async {
        var iterator = makeAsyncIterator()
        _ = await iterator.next()
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}

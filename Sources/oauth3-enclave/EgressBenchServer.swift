import NIOCore
import NIOPosix
import NIOSSL

/// The egress benchmark's download server, on loopback: answers `GET /bytes/N` with N bytes and closes.
/// In process, so both paths (direct and through the proxy) fetch from the same server; over TLS for the
/// interception benchmark.
final class EgressBenchServer: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    /// - Parameter tls: serve HTTPS with this context (the interception benchmark); plain HTTP without.
    init(tls: NIOSSLContext? = nil) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandler(DownloadHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async { try? await channel.close() }

    /// Reads a request head, then streams the body in 256 KiB writes as fast as the socket takes them.
    private final class DownloadHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private var head: [UInt8] = []
        private var remaining = -1
        private static let chunk = ByteBuffer(repeating: 0x61, count: 256 << 10)

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard remaining < 0 else { return }
            head += unwrapInboundIn(data).readableBytesView
            guard let text = String(validating: head, as: UTF8.self), text.contains("\r\n\r\n") else { return }
            let path = text.split(separator: " ").dropFirst().first ?? ""
            remaining = Int(path.split(separator: "/").last ?? "") ?? 0
            let header = "HTTP/1.1 200 OK\r\nContent-Length: \(remaining)\r\nConnection: close\r\n\r\n"
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: header)), promise: nil)
            pump(context)
        }

        func channelWritabilityChanged(context: ChannelHandlerContext) { pump(context) }

        private func pump(_ context: ChannelHandlerContext) {
            while remaining > 0 && context.channel.isWritable {
                let count = min(remaining, Self.chunk.readableBytes)
                remaining -= count
                context.write(wrapOutboundOut(Self.chunk.getSlice(at: 0, length: count)!), promise: nil)
            }
            context.flush()
            if remaining == 0 {
                remaining = -2
                context.close(mode: .output, promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}

import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization

/// NIO's HTTP/1.1 request decoder, fed the plaintext of an intercepted connection piece by piece.
///
/// An `EmbeddedChannel` runs the real `HTTPRequestDecoder` outside any socket, so the proxy parses with
/// NIO's codec (no hand-written parser) while its connection stays an async byte stream. Used by one
/// task only.
final class InterceptedRequestReader {
    private let channel = EmbeddedChannel()

    init() throws {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
        _ = channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1))
    }

    /// The request parts `bytes` completes. Throws on anything that is not HTTP/1.1.
    func feed(_ bytes: ByteBuffer) throws -> [HTTPServerRequestPart] {
        try channel.writeInbound(bytes)
        var parts: [HTTPServerRequestPart] = []
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) { parts.append(part) }
        return parts
    }
}

/// The transcript entries of requests sent on one connection and not yet answered, oldest first
/// (HTTP/1.1 answers in order).
final class AwaitingResponses: Sendable {
    private let queue = Mutex<[Int?]>([])

    func append(_ index: Int?) { queue.withLock { $0.append(index) } }

    /// The oldest request's entry, if it has one.
    func next() -> Int? {
        queue.withLock { queue -> Int? in
            guard !queue.isEmpty else { return nil }
            return queue.removeFirst()
        }
    }
}

/// NIO's HTTP/1.1 request encoder and response decoder for one upstream connection: requests are
/// encoded by one task and responses decoded by another (the decoder needs the request heads, to know
/// that a `HEAD` response has no body), so the channel is behind a lock.
final class UpstreamCodec: @unchecked Sendable {
    private let lock = NSLock()
    private let channel = EmbeddedChannel()

    init() throws {
        try channel.pipeline.syncOperations.addHandler(HTTPRequestEncoder())
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
        _ = channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1))
    }

    /// The bytes of `parts`, as NIO writes them.
    func encode(_ parts: [HTTPClientRequestPart]) throws -> ByteBuffer {
        try lock.withLock {
            for part in parts { try channel.writeOutbound(part) }
            var out = ByteBuffer()
            while let data = try channel.readOutbound(as: IOData.self) {
                if case .byteBuffer(var buffer) = data { out.writeBuffer(&buffer) }
            }
            return out
        }
    }

    /// The statuses of the final responses that `bytes` starts (informational ones are skipped).
    func statuses(in bytes: ByteBuffer) throws -> [Int] {
        try lock.withLock {
            try channel.writeInbound(bytes)
            var statuses: [Int] = []
            while let part = try channel.readInbound(as: HTTPClientResponsePart.self) {
                if case .head(let head) = part { statuses.append(Int(head.status.code)) }
            }
            return statuses
        }
    }
}

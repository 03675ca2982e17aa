import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization

/// NIO's HTTP/1.1 request decoder, fed the plaintext of an intercepted connection piece by piece.
///
/// A channel outside any socket (NIO's thread-safe async testing channel) runs the real
/// `HTTPRequestDecoder`, so the proxy parses with NIO's codec (no hand-written parser) while its
/// connection stays an async byte stream.
struct InterceptedRequestReader: Sendable {
    private let channel: NIOAsyncTestingChannel

    init(on loop: NIOAsyncTestingEventLoop) async throws {
        channel = try await NIOAsyncTestingChannel(loop: loop) {
            try $0.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
        }
    }

    /// The request parts `bytes` completes. Throws on anything that is not HTTP/1.1.
    func feed(_ bytes: ByteBuffer) async throws -> [HTTPServerRequestPart] {
        try await channel.writeInbound(bytes)
        var parts: [HTTPServerRequestPart] = []
        while let part = try await channel.readInbound(as: HTTPServerRequestPart.self) { parts.append(part) }
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
/// encoded by one task and responses decoded by another, on one channel (the decoder needs the request
/// heads, to know that a `HEAD` response has no body).
struct UpstreamCodec: Sendable {
    private let channel: NIOAsyncTestingChannel

    init(on loop: NIOAsyncTestingEventLoop) async throws {
        channel = try await NIOAsyncTestingChannel(loop: loop) {
            try $0.pipeline.syncOperations.addHandler(HTTPRequestEncoder())
            try $0.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
        }
    }

    /// The bytes of `parts`, as NIO writes them.
    func encode(_ parts: [HTTPClientRequestPart]) async throws -> ByteBuffer {
        for part in parts { try await channel.writeOutbound(part) }
        var out = ByteBuffer()
        while let data = try await channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(var buffer) = data { out.writeBuffer(&buffer) }
        }
        return out
    }

    /// The statuses of the final responses that `bytes` starts (informational ones are skipped).
    func statuses(in bytes: ByteBuffer) async throws -> [Int] {
        try await channel.writeInbound(bytes)
        var statuses: [Int] = []
        while let part = try await channel.readInbound(as: HTTPClientResponsePart.self) {
            if case .head(let head) = part { statuses.append(Int(head.status.code)) }
        }
        return statuses
    }
}

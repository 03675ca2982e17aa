import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OAuth3Wire

/// How ``OAuth3Client`` talks HTTP: AsyncHTTPClient on NIO's shared event loops.
///
/// Why not Foundation's `URLSession`: on Linux, swift-corelibs-foundation drives libcurl's multi
/// interface from libdispatch sources, and while a response is outstanding that loop never sleeps.
/// A process waiting for a reply that did not come used about 0.6 CPU-seconds a second (`/proc/PID/stat`)
/// in some 14,000 system calls a second (`strace -c -f`: `epoll_ctl`, `epoll_wait`, `futex`, `poll`,
/// `ioctl`, `read`, `write`). NIO waits in `epoll_wait` until a byte arrives: a waiting `oauth3 poll`
/// measured 0.00 CPU-seconds over 3 s (`CLIWaitingTests`).
public enum HTTPTransport {
    /// The client every ``OAuth3Client`` uses unless given another: one connection pool for the process.
    ///
    /// Not `HTTPClient.shared`: its read timeout (90 s) would cut a long-poll that the enclave holds for
    /// up to 120 s. Each request here carries its own deadline instead (``OAuth3Client/requestTimeout``,
    /// longer for a long-poll). It runs on `HTTPClient.defaultEventLoopGroup`, which lives as long as
    /// the process; ``shutdown()`` closes its connections, and the `oauth3` CLI calls it before it exits.
    public static let shared = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10)),
            connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64), decompression: .disabled))

    /// Closes the shared client's connections. Call it once, when the process is done with the API.
    public static func shutdown() async {
        try? await shared.shutdown()
    }

    /// The largest reply read (a result holds at most the job's capped stdout and stderr).
    static let maxReplyBytes = 64 << 20

    /// One exchange: the status and the whole body.
    static func exchange(
        _ client: HTTPClient, method: String, url: String, headers: [(String, String)], body: Data?, timeout: Duration
    ) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(data: body)) }
        let response = try await client.execute(request, timeout: TimeAmount(timeout))
        let bytes = try await response.body.collect(upTo: maxReplyBytes)
        return (Int(response.status.code), Data(buffer: bytes))
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

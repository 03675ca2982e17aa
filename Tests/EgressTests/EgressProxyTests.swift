import Egress
import Foundation
import NIOCore
import OAuth3Wire
import Testing

/// The proxy on its own, over real sockets: a client on the job's unix socket, an echo server on loopback.
/// Loopback is in the floor, so these tests use ``EgressPolicy/unsafeWithoutFloor()``; the first test
/// shows the same request refused under the real floor.
@Suite("Egress proxy mechanics")
struct EgressProxyTests {
    let loopback = IPAddress("127.0.0.1")!
    var resolver: StaticNameResolver { StaticNameResolver(["echo.test": [loopback]]) }
    var policy: EgressPolicy { EgressPolicy(refusedRanges: []).unsafeWithoutFloor() }

    @Test("The floor refuses loopback even when the policy refuses nothing else")
    func floorHolds() async throws {
        let echo = try await EchoServer()
        let (reply, transcript) = try await withProxy(declared: ["echo.test:\(echo.port)"], policy: EgressPolicy(refusedRanges: []), resolver: resolver) {
            try await exchange($0, Array("CONNECT echo.test:\(echo.port) HTTP/1.1\r\n\r\n".utf8))
        }
        #expect(reply.text.hasPrefix("HTTP/1.1 403 Forbidden\r\n"))
        #expect(reply.text.contains("X-OAuth3-Egress-Refused: refused_address"))
        #expect(transcript.connections.isEmpty)
        #expect(transcript.refused.map(\.code) == ["refused_address"])
        #expect(transcript.refused.first?.reason.contains("127.0.0.0/8") == true)
    }

    @Test("CONNECT relays both ways byte for byte, and the transcript counts exactly what passed")
    func tunnel() async throws {
        let echo = try await EchoServer()
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let (reply, transcript) = try await withProxy(declared: ["echo.test:\(echo.port)"], policy: policy, resolver: resolver) {
            try await exchange($0, Array("CONNECT echo.test:\(echo.port) HTTP/1.1\r\nHost: echo.test\r\n\r\n".utf8) + payload)
        }
        let established = Array("HTTP/1.1 200 Connection Established\r\n\r\n".utf8)
        #expect(Array(reply.prefix(established.count)) == established)
        #expect(Array(reply.dropFirst(established.count)) == payload)
        let connection = try #require(transcript.connections.first)
        #expect(transcript.connections.count == 1 && transcript.refused.isEmpty)
        #expect(connection.host == "echo.test" && connection.port == echo.port && connection.address == "127.0.0.1")
        #expect(connection.kind == "connect" && connection.end == "closed")
        #expect(connection.bytesSent == payload.count && connection.bytesReceived == payload.count)
        #expect(transcript.totalBytes == 2 * payload.count)
    }

    @Test("Plain HTTP reaches the server rewritten: origin form, its own Host, Connection: close")
    func plainHTTP() async throws {
        let echo = try await EchoServer()
        let request = "GET http://echo.test:\(echo.port)/path?q=1 HTTP/1.1\r\nHost: elsewhere\r\nProxy-Connection: keep-alive\r\n\r\n"
        let (reply, transcript) = try await withProxy(declared: ["echo.test:\(echo.port)"], policy: policy, resolver: resolver) {
            try await exchange($0, Array(request.utf8))
        }
        let upstream = "GET /path?q=1 HTTP/1.1\r\nHost: echo.test:\(echo.port)\r\nConnection: close\r\n\r\n"
        #expect(reply.text == upstream)
        #expect(transcript.connections.first?.kind == "http")
        #expect(transcript.connections.first?.bytesSent == upstream.utf8.count)
    }

    @Test("Undeclared hosts, raw addresses and bad requests are refused before anything is resolved or connected")
    func refusals() async throws {
        let echo = try await EchoServer()
        let requests = [
            "CONNECT other.test:\(echo.port) HTTP/1.1\r\n\r\n", "CONNECT echo.test:1 HTTP/1.1\r\n\r\n",
            "CONNECT 127.0.0.1:\(echo.port) HTTP/1.1\r\n\r\n", "GET http://[::1]:\(echo.port)/ HTTP/1.1\r\n\r\n", "hello\r\n\r\n",
        ]
        let (replies, transcript) = try await withProxy(declared: ["echo.test:\(echo.port)"], policy: policy, resolver: resolver) { socket in
            var replies: [String] = []
            for request in requests { replies.append(try await exchange(socket, Array(request.utf8)).text) }
            return replies
        }
        #expect(replies.map { String($0.prefix(12)) } == ["HTTP/1.1 403", "HTTP/1.1 403", "HTTP/1.1 403", "HTTP/1.1 403", "HTTP/1.1 400"])
        #expect(transcript.refused.map(\.code) == ["undeclared", "undeclared", "raw_address", "raw_address", "bad_request"])
        #expect(transcript.refused[0].host == "other.test" && transcript.refused[0].port == echo.port)
        #expect(transcript.connections.isEmpty)
    }

    @Test("A name that does not resolve, and a server that does not answer, are told apart")
    func unresolvedAndUnreachable() async throws {
        let closed = try await EchoServer()
        let port = closed.port
        try await closed.channel.close()
        let (replies, transcript) = try await withProxy(declared: ["echo.test:\(port)", "missing.test:\(port)"], policy: policy, resolver: resolver) { socket in
            [try await exchange(socket, Array("CONNECT missing.test:\(port) HTTP/1.1\r\n\r\n".utf8)).text,
             try await exchange(socket, Array("CONNECT echo.test:\(port) HTTP/1.1\r\n\r\n".utf8)).text]
        }
        #expect(replies.allSatisfy { $0.hasPrefix("HTTP/1.1 502 Bad Gateway") })
        #expect(transcript.refused.map(\.code) == ["unresolved", "unreachable"])
        #expect(transcript.refused[0].reason.contains("no such name"))
    }

    @Test("The byte budget cuts the connection that crosses it and refuses the next")
    func byteBudget() async throws {
        let echo = try await EchoServer()
        var small = policy
        small.maxBytes = 100_000
        let (replies, transcript) = try await withProxy(declared: ["echo.test:\(echo.port)"], policy: small, resolver: resolver) { socket in
            let big = try await exchange(socket, Array("CONNECT echo.test:\(echo.port) HTTP/1.1\r\n\r\n".utf8) + Array(repeating: 7, count: 300_000))
            let next = try await exchange(socket, Array("CONNECT echo.test:\(echo.port) HTTP/1.1\r\n\r\n".utf8))
            return (big.count, next.text)
        }
        #expect(replies.0 < 100_100)
        #expect(replies.1.hasPrefix("HTTP/1.1 429"))
        #expect(transcript.connections.first?.end == "byte_limit")
        let relayed = (transcript.connections.first?.bytesSent ?? 0) + (transcript.connections.first?.bytesReceived ?? 0)
        #expect(relayed <= 100_000)
        #expect(transcript.refused.map(\.code) == ["byte_limit"])
    }

    @Test("The connection budget: total over the job's life, and open at once")
    func connectionBudget() async throws {
        let echo = try await EchoServer()
        var limited = policy
        limited.maxConnections = 2
        let request = Array("CONNECT echo.test:\(echo.port) HTTP/1.1\r\n\r\nping".utf8)
        let (third, transcript) = try await withProxy(declared: ["echo.test:\(echo.port)"], policy: limited, resolver: resolver) { socket in
            _ = try await exchange(socket, request)
            _ = try await exchange(socket, request)
            return try await exchange(socket, request).text
        }
        #expect(third.hasPrefix("HTTP/1.1 429") && third.contains("connections are used up"))
        #expect(transcript.connections.count == 2)

        var narrow = policy
        narrow.maxConcurrentConnections = 1
        let established = "HTTP/1.1 200 Connection Established\r\n\r\n".utf8.count
        let (second, concurrent) = try await withProxy(declared: ["echo.test:\(echo.port)"], policy: narrow, resolver: resolver) { socket in
            // The first tunnel is established (its ping came back) and stays open until the job ends,
            // while the second asks.
            await holdConnection(socket, request, readyAfter: established + 4).ready.first()
            return try await exchange(socket, request).text
        }
        #expect(second.hasPrefix("HTTP/1.1 429") && second.contains("at once"))
        #expect(concurrent.refused.map(\.code) == ["connection_limit"])
    }

    @Test("A connection that sends no request head in time is closed and recorded")
    func headTimeout() async throws {
        var impatient = policy
        impatient.headTimeoutMilliseconds = 300
        let started = ContinuousClock.now
        let (reply, transcript) = try await withProxy(declared: ["echo.test:1"], policy: impatient, resolver: resolver) {
            try await exchange($0, Array("CONNECT echo".utf8), halfClose: false)
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(reply.text.hasPrefix("HTTP/1.1 400") || reply.isEmpty)
        #expect(transcript.refused.map(\.reason) == ["not a proxy request: no complete request head within 300 ms"])
    }

    @Test("When the job ends, open connections close and are recorded as job_ended")
    func jobEnds() async throws {
        let echo = try await EchoServer()
        let started = ContinuousClock.now
        let (_, transcript) = try await withProxy(declared: ["echo.test:\(echo.port)"], policy: policy, resolver: resolver) { socket in
            // Opens a tunnel, waits until its byte came back through it, and ends the job with it open.
            let request = Array("CONNECT echo.test:\(echo.port) HTTP/1.1\r\n\r\nx".utf8)
            await holdConnection(socket, request, readyAfter: "HTTP/1.1 200 Connection Established\r\n\r\n".utf8.count + 1).ready.first()
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(transcript.connections.map(\.end) == ["job_ended"])
        #expect(transcript.connections.first?.bytesSent == 1 && transcript.connections.first?.bytesReceived == 1)
    }
}

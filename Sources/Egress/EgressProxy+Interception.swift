import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOSSL
import OAuth3Wire

extension EgressProxy {
    /// The largest request body the proxy holds while it checks a request for placeholders: a request is
    /// sent only once all of it was seen, so a refused one leaves nothing behind on the upstream.
    static let maxInterceptedBodyBytes = 16 << 20

    /// One CONNECT of a job holding bound secrets, whose upstream already verified: answer `200`, take
    /// over the job's TLS with a leaf for `target` from the job's own authority, and pass each request on
    /// (its bound placeholders replaced) or refuse it, recording every request in the transcript.
    func intercept(
        _ target: ProxyTarget, upstream: (channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, address: IPAddress), client: any Channel,
        requests: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        interception: EgressInterception, ledger: EgressLedger
    ) async {
        let started = ledger.elapsedMs
        let clock = ContinuousClock.now
        let relay = Relay()
        var end = "closed"
        ledger.track(upstream.channel.channel)
        defer { ledger.untrack(upstream.channel.channel) }
        // The loop NIO's HTTP codec runs on for this connection, outside any socket.
        let codecLoop = NIOAsyncTestingEventLoop()
        do {
            let context = try interception.authority.serverContext(for: target.host)
            // In one event-loop turn: the 200 leaves in plaintext, and every byte read after it goes through TLS.
            try await client.eventLoop.submit {
                client.writeAndFlush(ByteBuffer(string: "HTTP/1.1 200 Connection Established\r\n\r\n"), promise: nil)
                try client.pipeline.syncOperations.addHandler(try NIOSSLServerHandler(context: context), position: .first)
            }.get()
            try await upstream.channel.executeThenClose { serverInbound, serverOutbound in
                let codec = try await UpstreamCodec(on: codecLoop)
                // The transcript entries waiting for their response, in the order their requests went out.
                let awaiting = AwaitingResponses()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await chunk in serverInbound {
                            for status in (try? await codec.statuses(in: chunk)) ?? [] {
                                if let index = awaiting.next() { ledger.respond(index, status: status) }
                            }
                            try await relay.forward(chunk, to: outbound, ledger: ledger, sent: false)
                        }
                        relay.serverClosed()
                        outbound.finish()
                    }
                    let reader = try await InterceptedRequestReader(on: codecLoop)
                    var current: (head: HTTPRequestHead, body: ByteBuffer)?
                    var refusal: EgressRefusal?
                    reading: while let chunk = try await requests.next() {
                        let parts: [HTTPServerRequestPart]
                        do { parts = try await reader.feed(chunk) } catch {
                            refusal = .badRequest("not HTTP/1.1 inside the TLS to \(target): \(error)")
                            break reading
                        }
                        for part in parts {
                            switch part {
                            case .head(let head):
                                current = (head, ByteBuffer())
                            case .body(var bytes):
                                guard current != nil, current!.body.readableBytes + bytes.readableBytes <= Self.maxInterceptedBodyBytes else {
                                    refusal = .badRequest("a request body over \(Self.maxInterceptedBodyBytes) bytes, in a job holding bound secrets")
                                    break reading
                                }
                                current!.body.writeBuffer(&bytes)
                            case .end:
                                guard let request = current else { continue }
                                current = nil
                                let path = NetworkTranscript.Request.pathWithoutQueryValues(request.head.uri)
                                switch Self.prepare(request.head, body: request.body, target: target, secrets: interception.secrets) {
                                case .success((let head, let substituted)):
                                    let index = ledger.record(
                                        .init(method: head.method.rawValue, host: target.host, port: target.port, path: path, substituted: substituted))
                                    awaiting.append(index)
                                    var parts: [HTTPClientRequestPart] = [.head(head)]
                                    if request.body.readableBytes > 0 { parts.append(.body(.byteBuffer(request.body))) }
                                    parts.append(.end(nil))
                                    try await relay.forward(try await codec.encode(parts), to: serverOutbound, ledger: ledger, sent: true)
                                case .failure(let refused):
                                    _ = ledger.record(
                                        .init(method: request.head.method.rawValue, host: target.host, port: target.port, path: path, refusal: refused.code))
                                    refusal = refused
                                    break reading
                                }
                            }
                        }
                    }
                    serverOutbound.finish()
                    if let refusal {
                        // The refused request goes nowhere; the job hears why, and the connection ends.
                        group.cancelAll()
                        ledger.refuse(refusal, target: target)
                        try? await outbound.write(Self.response(for: refusal, target: target))
                        outbound.finish()
                    } else {
                        try await group.waitForAll()
                    }
                }
            }
        } catch is EgressCut {
            end = "byte_limit"
        } catch {
            end = "closed"
        }
        // Whatever ended the exchange (a setup failure included), the upstream connection ends with it.
        try? await upstream.channel.channel.close()
        await codecLoop.shutdownGracefully()
        let serverEnded = relay.serverEnded
        if Task.isCancelled, end != "byte_limit", serverEnded == nil { end = "job_ended" }
        let counts = relay.counts
        ledger.finish(
            .init(
                host: target.host, port: target.port, address: upstream.address.description, kind: "intercepted",
                bytesSent: counts.sent, bytesReceived: counts.received, startedMs: started,
                durationMs: EgressLedger.milliseconds((serverEnded ?? ContinuousClock.now) - clock), end: end))
    }

    /// The head to send for one complete request: placeholders checked everywhere (the body too) and
    /// substituted where bound, the body's framing stated as its length (it is sent whole).
    static func prepare(
        _ head: HTTPRequestHead, body: ByteBuffer, target: ProxyTarget, secrets: [BoundSecret]
    ) -> Result<(HTTPRequestHead, [String]), EgressRefusal> {
        if head.headers.contains(name: "upgrade") {
            return .failure(.badRequest("protocol upgrades (WebSocket) are not relayed for a job holding bound secrets"))
        }
        var scanner = PlaceholderScanner(secrets)
        if let secret = scanner.scan(body.readableBytesView) { return .failure(.placeholderInBody(secret: secret.name)) }
        return HeaderSubstitution.apply(to: head, target: target, secrets: secrets).map { head, substituted in
            var framed = head
            if body.readableBytes > 0 || framed.headers.contains(name: "transfer-encoding") {
                framed.headers.remove(name: "transfer-encoding")
                framed.headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
            }
            return (framed, substituted)
        }
    }
}

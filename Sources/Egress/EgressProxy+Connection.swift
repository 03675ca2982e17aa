import NIOCore
import OAuth3Wire
import Synchronization

extension EgressProxy {
    /// One connection from the job: read the request head, decide, connect, relay.
    func handle(_ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>, ledger: EgressLedger) async {
        ledger.track(client.channel)
        defer { ledger.untrack(client.channel) }
        // A connection that holds no slot yet must still not linger: no head in time, and it is closed.
        let channel = client.channel
        let opened = ContinuousClock.now
        let deadline = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(policy.headTimeoutMilliseconds))) { channel.close(promise: nil) }
        try? await client.executeThenClose { inbound, outbound in
            var requests = inbound.makeAsyncIterator()
            var buffered: [UInt8] = []
            var headLength: Int?
            while headLength == nil, buffered.count <= ProxyRequest.maxHeadBytes, let chunk = try? await requests.next() {
                buffered += chunk.readableBytesView
                headLength = ProxyRequest.headLength(in: buffered)
            }
            deadline.cancel()
            guard let headLength else {
                let timedOut = ContinuousClock.now - opened >= .milliseconds(Int64(policy.headTimeoutMilliseconds))
                if timedOut || !buffered.isEmpty {
                    let refusal = EgressRefusal.badRequest(
                        timedOut ? "no complete request head within \(policy.headTimeoutMilliseconds) ms" : "no complete request head in \(buffered.count) bytes")
                    ledger.refuse(refusal, target: nil)
                    try? await outbound.write(Self.response(for: refusal))
                }
                return
            }
            let request: ProxyRequest
            switch ProxyRequest.parse(Array(buffered[..<headLength])) {
            case .success(let parsed): request = parsed
            case .failure(let refusal):
                ledger.refuse(refusal, target: nil)
                return try await outbound.write(Self.response(for: refusal))
            }
            let target = request.target
            // A job holding bound secrets: plain HTTP never carries a placeholder (nothing is substituted
            // there), and every CONNECT is intercepted, its upstream verified before the job's TLS is accepted.
            var intercepting: EgressInterception?
            if let interception {
                switch request {
                case .connect: intercepting = interception
                case .http(_, let head):
                    if let secret = PlaceholderScanner.first(in: String(decoding: head + buffered[headLength...], as: UTF8.self), of: interception.secrets) {
                        let refusal = EgressRefusal.placeholderInPlainHTTP(secret: secret.name)
                        ledger.refuse(refusal, target: target)
                        return try await outbound.write(Self.response(for: refusal, target: target))
                    }
                }
            }
            let upstream: (channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, address: IPAddress)
            switch await open(target, ledger: ledger, tls: intercepting?.upstream) {
            case .success(let opened): upstream = opened
            case .failure(let refusal):
                ledger.refuse(refusal, target: target)
                return try await outbound.write(Self.response(for: refusal, target: target))
            }
            let rest = Array(buffered[headLength...])
            if let intercepting {
                guard rest.isEmpty else {
                    let refusal = EgressRefusal.badRequest("bytes sent after CONNECT before its answer")
                    ledger.release()
                    ledger.refuse(refusal, target: target)
                    try? await upstream.channel.channel.close()
                    return try await outbound.write(Self.response(for: refusal, target: target))
                }
                return await intercept(
                    target, upstream: upstream, client: channel, requests: &requests, outbound: outbound, interception: intercepting, ledger: ledger)
            }
            let started = ledger.elapsedMs
            let clock = ContinuousClock.now
            let relay = Relay(scanning: interception?.secrets ?? [])
            var end = "closed"
            ledger.track(upstream.channel.channel)
            defer { ledger.untrack(upstream.channel.channel) }
            do {
                try await upstream.channel.executeThenClose { serverInbound, serverOutbound in
                    switch request {
                    case .connect:
                        try await outbound.write(ByteBuffer(string: "HTTP/1.1 200 Connection Established\r\n\r\n"))
                        if !rest.isEmpty { try await relay.forward(ByteBuffer(bytes: rest), to: serverOutbound, ledger: ledger, sent: true) }
                    case .http(_, let head):
                        try await relay.forward(ByteBuffer(bytes: head + rest), to: serverOutbound, ledger: ledger, sent: true)
                    }
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await chunk in serverInbound {
                                try await relay.forward(chunk, to: outbound, ledger: ledger, sent: false)
                            }
                            relay.serverClosed()
                            outbound.finish()
                        }
                        while let chunk = try await requests.next() {
                            try await relay.forward(chunk, to: serverOutbound, ledger: ledger, sent: true)
                        }
                        serverOutbound.finish()
                        try await group.waitForAll()
                    }
                }
            } catch is EgressCut {
                end = "byte_limit"
            } catch let found as PlaceholderFound {
                end = "placeholder"
                ledger.refuse(.placeholderInPlainHTTP(secret: found.secret), target: target)
            } catch {
                end = "closed"
            }
            // A connection the server had already ended is complete even if the client still held its side
            // (a pooled keep-alive connection) when the job ended.
            let serverEnded = relay.serverEnded
            if Task.isCancelled, end != "byte_limit", serverEnded == nil { end = "job_ended" }
            let counts = relay.counts
            ledger.finish(
                .init(
                    host: target.host, port: target.port, address: upstream.address.description,
                    kind: { if case .connect = request { "connect" } else { "http" } }(),
                    bytesSent: counts.sent, bytesReceived: counts.received, startedMs: started,
                    durationMs: EgressLedger.milliseconds((serverEnded ?? ContinuousClock.now) - clock), end: end))
        }
    }
}

/// Counts one connection's bytes as they pass and charges them to the job's budget; for a job holding
/// bound secrets, also watches what the job sends in plain HTTP for a placeholder.
final class Relay: Sendable {
    private let sent = Mutex(0)
    private let received = Mutex(0)
    private let serverEnd = Mutex<ContinuousClock.Instant?>(nil)
    private let scanner: Mutex<PlaceholderScanner>

    init(scanning secrets: [BoundSecret] = []) { scanner = Mutex(PlaceholderScanner(secrets)) }

    /// When the server closed its side, if it did.
    var serverEnded: ContinuousClock.Instant? { serverEnd.withLock { $0 } }
    func serverClosed() { serverEnd.withLock { $0 = .now } }

    var counts: (sent: Int, received: Int) { (sent.withLock { $0 }, received.withLock { $0 }) }

    /// Passes `chunk` on as it is (no copy), once the job's budget allows it.
    func forward(_ chunk: ByteBuffer, to writer: NIOAsyncChannelOutboundWriter<ByteBuffer>, ledger: EgressLedger, sent direction: Bool) async throws {
        let count = chunk.readableBytes
        if direction, let secret = scanner.withLock({ $0.scan(chunk.readableBytesView) }) { throw PlaceholderFound(secret: secret.name) }
        guard ledger.spend(count) else { throw EgressCut() }
        if direction { sent.withLock { $0 += count } } else { received.withLock { $0 += count } }
        try await writer.write(chunk)
    }
}

/// Thrown to cut a connection that went over the job's byte budget.
struct EgressCut: Error {}

/// Thrown to cut a plain-HTTP connection that carried a bound secret's placeholder.
struct PlaceholderFound: Error {
    let secret: String
}


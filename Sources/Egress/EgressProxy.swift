import Foundation
import NIOCore
import NIOPosix
import SkillManifest
import Synchronization

/// One job's egress proxy: the only way out of the job's network namespace.
///
/// It listens on a unix socket that the jail's bridge (``Jail``'s `EgressBridge`) connects to for every
/// TCP connection Deno opens to `127.0.0.1:3128` inside the namespace. For each request it checks the
/// target against the job's `@network`, resolves the name itself (``NameResolver``), refuses addresses in
/// the policy's ranges, and connects to one of the addresses it vetted: nothing resolves the name a
/// second time, so an answer that changes between check and connect cannot redirect the connection.
public struct EgressProxy: Sendable {
    /// The hosts the job declared.
    public let declared: [HostPattern]
    public let policy: EgressPolicy
    public let resolver: any NameResolver

    public init(declared: [HostPattern], policy: EgressPolicy, resolver: any NameResolver) {
        self.declared = declared
        self.policy = policy
        self.resolver = resolver
    }

    /// Serves on `socketPath` while `job` runs, then closes every connection and returns the job's value
    /// with the transcript.
    /// - Parameters:
    ///   - socketPath: created here (an existing file is replaced), mode 0600, owned by `owner`.
    ///   - owner: the uid and gid that may connect (the job's user, which the bridge runs as).
    /// - Throws: when the socket cannot be created; the job is then not run.
    public func serve<T: Sendable>(
        at socketPath: String, owner: (uid: UInt32, gid: UInt32), while job: @Sendable () async -> T
    ) async throws -> (T, NetworkTranscript) {
        let ledger = EgressLedger(policy: policy)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true) { child in
                child.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: child, configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        guard chmod(socketPath, 0o600) == 0, chown(socketPath, owner.uid, owner.gid) == 0 else {
            let reason = String(cString: strerror(errno))
            try? await server.channel.close()
            throw EgressSetupError("cannot hand \(socketPath) to uid \(owner.uid): \(reason)")
        }
        let value = await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await server.executeThenClose { connections in
                    try await withThrowingDiscardingTaskGroup { handlers in
                        for try await connection in connections {
                            handlers.addTask { await handle(connection, ledger: ledger) }
                        }
                    }
                }
            }
            let value = await job()
            // Cancellation ends the accept loop and every relay; closing the channels as well makes sure
            // nothing the job opened outlives it, whatever a relay was waiting for.
            group.cancelAll()
            try? await server.channel.close()
            ledger.closeAll()
            return value
        }
        return (value, ledger.transcript)
    }

    /// One connection from the job: read the request head, decide, connect, relay.
    private func handle(_ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>, ledger: EgressLedger) async {
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
            let upstream: (channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, address: IPAddress)
            switch await open(target, ledger: ledger) {
            case .success(let opened): upstream = opened
            case .failure(let refusal):
                ledger.refuse(refusal, target: target)
                return try await outbound.write(Self.response(for: refusal, target: target))
            }
            let rest = Array(buffered[headLength...])
            let started = ledger.elapsedMs
            let clock = ContinuousClock.now
            let relay = Relay()
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

    /// Checks `target`, takes a connection slot, resolves, vets every address, and connects to the
    /// first vetted address that answers.
    private func open(_ target: ProxyTarget, ledger: EgressLedger) async -> Result<(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, address: IPAddress), EgressRefusal> {
        if let refusal = policy.refusal(of: target, declared: declared) { return .failure(refusal) }
        if let refusal = ledger.admit() { return .failure(refusal) }
        let addresses: [IPAddress]
        switch await resolver.resolve(target.host) {
        case .success(let found) where !found.isEmpty: addresses = found
        case .success: ledger.release(); return .failure(.unresolved(target.host, reason: "no A or AAAA records"))
        case .failure(let failure): ledger.release(); return .failure(.unresolved(target.host, reason: failure.description))
        }
        // One refused address refuses the name: a mixed answer is how DNS rebinding starts.
        for address in addresses {
            if let refusal = policy.refusal(of: address, for: target.host) { ledger.release(); return .failure(refusal) }
        }
        var failures: [String] = []
        for address in addresses {
            do {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connectTimeout(.milliseconds(Int64(policy.connectTimeoutMilliseconds)))
                    .channelOption(.allowRemoteHalfClosure, value: true)
                    .connect(to: try SocketAddress(ipAddress: address.description, port: target.port)) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        }
                    }
                return .success((channel, address))
            } catch {
                failures.append("\(address): \(error)")
            }
        }
        ledger.release()
        return .failure(.unreachable(failures.joined(separator: "; ")))
    }

    /// The answer the job gets for a refused request: a status, the reason as a header and as the body.
    static func response(for refusal: EgressRefusal, target: ProxyTarget? = nil) -> ByteBuffer {
        let status = switch refusal {
        case .badRequest: "400 Bad Request"
        case .connectionLimit, .byteLimit: "429 Too Many Requests"
        case .unresolved, .unreachable: "502 Bad Gateway"
        case .rawAddress, .undeclared, .refusedAddress: "403 Forbidden"
        }
        let body = "oauth3 egress proxy refused \(target.map { "\($0)" } ?? "the request"): \(refusal)\n"
        return ByteBuffer(
            string: "HTTP/1.1 \(status)\r\nContent-Type: text/plain; charset=utf-8\r\nX-OAuth3-Egress-Refused: \(refusal.code)\r\n"
                + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
    }
}

/// Counts one connection's bytes as they pass and charges them to the job's budget.
private final class Relay: Sendable {
    private let sent = Mutex(0)
    private let received = Mutex(0)
    private let serverEnd = Mutex<ContinuousClock.Instant?>(nil)

    /// When the server closed its side, if it did.
    var serverEnded: ContinuousClock.Instant? { serverEnd.withLock { $0 } }
    func serverClosed() { serverEnd.withLock { $0 = .now } }

    var counts: (sent: Int, received: Int) { (sent.withLock { $0 }, received.withLock { $0 }) }

    /// Passes `chunk` on as it is (no copy), once the job's budget allows it.
    func forward(_ chunk: ByteBuffer, to writer: NIOAsyncChannelOutboundWriter<ByteBuffer>, ledger: EgressLedger, sent direction: Bool) async throws {
        let count = chunk.readableBytes
        guard ledger.spend(count) else { throw EgressCut() }
        if direction { sent.withLock { $0 += count } } else { received.withLock { $0 += count } }
        try await writer.write(chunk)
    }
}

/// Thrown to cut a connection that went over the job's byte budget.
struct EgressCut: Error {}

/// The proxy could not be set up; the job does not run.
public struct EgressSetupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import OAuth3Wire
import SkillManifest

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
    /// For a job holding bound secrets: terminate its TLS and substitute (``EgressInterception``); `nil`
    /// for every other job, whose CONNECTs stay opaque tunnels.
    public let interception: EgressInterception?

    public init(declared: [HostPattern], policy: EgressPolicy, resolver: any NameResolver, interception: EgressInterception? = nil) {
        self.declared = declared
        self.policy = policy
        self.resolver = resolver
        self.interception = interception
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
        let ledger = EgressLedger(policy: policy, recordsRequests: interception != nil)
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

    /// Checks `target`, takes a connection slot, resolves, vets every address, and connects to the
    /// first vetted address that answers.
    /// - Parameter tls: for an intercepted connection, the client context: the connection is returned once
    ///   the upstream's certificate verified for `target.host` (the job's own TLS is accepted only after that).
    func open(_ target: ProxyTarget, ledger: EgressLedger, tls: NIOSSLContext? = nil) async -> Result<(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, address: IPAddress), EgressRefusal> {
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
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let handshake = loop.makePromise(of: Void.self)
            do {
                let channel = try await ClientBootstrap(group: loop)
                    .connectTimeout(.milliseconds(Int64(policy.connectTimeoutMilliseconds)))
                    .channelOption(.allowRemoteHalfClosure, value: true)
                    .connect(to: try SocketAddress(ipAddress: address.description, port: target.port)) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            if let tls {
                                try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: target.host))
                                try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(handshake))
                            } else {
                                handshake.succeed()
                            }
                            return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        }
                    }
                let timeout = loop.scheduleTask(in: .milliseconds(Int64(policy.connectTimeoutMilliseconds))) {
                    handshake.fail(EgressRefusal.upstreamTLS("no TLS handshake within \(policy.connectTimeoutMilliseconds) ms"))
                }
                do {
                    try await handshake.futureResult.get()
                    timeout.cancel()
                } catch {
                    timeout.cancel()
                    try? await channel.channel.close()
                    ledger.release()
                    return .failure(error as? EgressRefusal ?? .upstreamTLS("\(error)"))
                }
                return .success((channel, address))
            } catch {
                handshake.fail(error)
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
        case .placeholderUnbound, .placeholderInURL, .placeholderInBody, .placeholderInPlainHTTP: "403 Forbidden"
        case .upstreamTLS: "502 Bad Gateway"
        }
        let body = "oauth3 egress proxy refused \(target.map { "\($0)" } ?? "the request"): \(refusal)\n"
        return ByteBuffer(
            string: "HTTP/1.1 \(status)\r\nContent-Type: text/plain; charset=utf-8\r\nX-OAuth3-Egress-Refused: \(refusal.code)\r\n"
                + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
    }
}

/// The proxy could not be set up; the job does not run.
public struct EgressSetupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

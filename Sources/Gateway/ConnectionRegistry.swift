import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Every open HTTP connection, and whether it is serving a request, so that a new client is never
/// locked out by idle ones.
///
/// The idle timeout closes a connection that sends nothing, but only after it expires; until then a few
/// thousand idle or half-sent connections could fill the connection limit, and `/healthz`, `/readyz` and
/// real clients would wait in the listen backlog. So when a new connection brings the count to the
/// limit, the connection idle the longest (no request in flight: never sent a complete head, or waiting
/// between keep-alive requests) is closed to make room. Connections in a request, long-polls included,
/// are never evicted; those are bounded by the per-tenant quotas. Hummingbird's
/// `MaximumAvailableConnections` stays the hard bound above this.
public final class ConnectionRegistry: Sendable {
    private struct Entry {
        let channel: any Channel
        var busy: Bool
        var since: NIODeadline
    }

    private let limit: Int
    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])
    private let evicted = Atomic<Int>(0)

    /// - Parameter limit: connections at most before the longest-idle one is closed for a new one.
    public init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Connections open now.
    public var count: Int { entries.withLock { $0.count } }
    /// Idle connections closed to make room, since start.
    public var evictions: Int { evicted.load(ordering: .relaxed) }

    /// A handler for one connection's pipeline (Hummingbird's `additionalChannelHandlers`).
    public func handler() -> ConnectionTracker { ConnectionTracker(registry: self) }

    func opened(_ channel: any Channel) {
        let victim: (any Channel)? = entries.withLock { entries in
            // handlerAdded and channelActive may both report one connection: it makes room once.
            guard entries[ObjectIdentifier(channel)] == nil else { return nil }
            entries[ObjectIdentifier(channel)] = Entry(channel: channel, busy: false, since: .now())
            guard entries.count >= limit else { return nil }
            let oldest = entries.filter { !$0.value.busy && $0.key != ObjectIdentifier(channel) }.min { $0.value.since < $1.value.since }
            guard let oldest else { return nil }
            entries[oldest.key] = nil
            return oldest.value.channel
        }
        if let victim {
            evicted.add(1, ordering: .relaxed)
            victim.close(promise: nil)
        }
    }

    func closed(_ channel: any Channel) {
        _ = entries.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func mark(_ channel: any Channel, busy: Bool) {
        entries.withLock { entries in
            entries[ObjectIdentifier(channel)]?.busy = busy
            entries[ObjectIdentifier(channel)]?.since = .now()
        }
    }
}

/// Tells the registry when its connection opens, starts and ends a request, and closes.
public final class ConnectionTracker: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    private let registry: ConnectionRegistry

    init(registry: ConnectionRegistry) {
        self.registry = registry
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { registry.opened(context.channel) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        registry.opened(context.channel)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        registry.closed(context.channel)
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        registry.closed(context.channel)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { registry.mark(context.channel, busy: true) }
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { registry.mark(context.channel, busy: false) }
        context.write(data, promise: promise)
    }
}

@available(*, unavailable)
extension ConnectionTracker: Sendable {}

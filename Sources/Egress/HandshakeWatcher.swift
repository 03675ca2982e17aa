import NIOCore
import NIOSSL
import NIOTLS

/// Completes a promise when the upstream's TLS handshake finished (the certificate verified for the
/// name), or fails it with the handshake's error, so the proxy answers the job's CONNECT only once it
/// knows the real host is the one the job asked for.
final class HandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let promise: EventLoopPromise<Void>

    init(_ promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls { promise.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(EgressRefusal.upstreamTLS("the upstream closed the connection during the TLS handshake"))
        context.fireChannelInactive()
    }
}

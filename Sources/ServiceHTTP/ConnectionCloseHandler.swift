import NIOCore
import NIOHTTP1

/// Answers each request as its head asked (`HTTPRequestHead.isKeepAlive`: HTTP/1.1 unless
/// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`): a response to a request
/// that does not keep the connection says `Connection: close` and the connection closes once
/// it is written; one that does keeps it, and says `keep-alive` to an HTTP/1.0 client.
final class ConnectionCloseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Per request in flight, oldest first: (keep alive, HTTP/1.0).
    private var pending: [(keepAlive: Bool, http10: Bool)] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            pending.append((head.isKeepAlive, head.version.major == 1 && head.version.minor == 0))
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            guard let request = pending.first else { return context.write(data, promise: promise) }
            if !request.keepAlive {
                head.headers.replaceOrAdd(name: "connection", value: "close")
            } else if request.http10 {
                head.headers.replaceOrAdd(name: "connection", value: "keep-alive")
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            let request = pending.isEmpty ? nil : pending.removeFirst()
            if let request, !request.keepAlive {
                let channel = context.channel
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.whenComplete { _ in channel.close(promise: nil) }
                if let promise { written.futureResult.cascade(to: promise) }
                context.writeAndFlush(data, promise: written)
            } else {
                context.write(data, promise: promise)
            }
        }
    }
}

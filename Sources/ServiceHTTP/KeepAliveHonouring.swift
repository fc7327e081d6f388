import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Every process's HTTP server: Hummingbird's HTTP/1 channel, plus ``ConnectionCloseHandler``
/// so that the connection closes after the response unless the client asked to keep it.
///
/// Hummingbird reads requests as swift-http-types values, which carry no HTTP version, and keeps
/// every connection open unless the request says `Connection: close` in exactly that spelling.
/// An HTTP/1.0 client (ApacheBench, many probes) keeps nothing open unless it says
/// `keep-alive`, and waits for the close that marks the end of the response: it hung.
public enum GeoRepHTTPServer {
    /// For `Application(router:server:…)`.
    public static var builder: HTTPServerBuilder {
        HTTPServerBuilder { responder in KeepAliveHonouringChannel(inner: HTTP1Channel(responder: responder)) }
    }
}

/// Hummingbird's HTTP1Channel with ``ConnectionCloseHandler`` placed before the conversion to
/// swift-http-types, where NIO's request heads still carry their version.
struct KeepAliveHonouringChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let inner: HTTP1Channel

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let conversion = try operations.handler(type: HTTP1ToHTTPServerCodec.self)
            try operations.addHandler(ConnectionCloseHandler(), position: .before(conversion))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

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

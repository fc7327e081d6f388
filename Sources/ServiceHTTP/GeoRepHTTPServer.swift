import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
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

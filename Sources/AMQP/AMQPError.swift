/// What went wrong talking to RabbitMQ, and whether reconnecting may help.
public enum AMQPError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidURL(String)
    /// The TCP or TLS connection could not be made.
    case connectionFailed(host: String, port: Int, reason: String)
    case loginFailed(reason: String)
    /// The broker closed the channel, e.g. a declaration that disagrees with an existing queue.
    case channelClosed(code: Int, text: String)
    /// The broker closed the connection (restart, forced close, missed heartbeats).
    case connectionClosed(code: Int, text: String)
    /// A `mandatory` publish had no queue to go to.
    case unroutable(exchange: String, routingKey: String, reason: String)
    /// The broker refused to take responsibility for a published message.
    case nacked(exchange: String, routingKey: String)
    /// A librabbitmq call failed (socket error, timeout, protocol error).
    case library(operation: String, reason: String)
    /// The connection was closed by us, or is not open.
    case notConnected

    /// Reconnecting and retrying may help.
    public var isConnectionLoss: Bool {
        switch self {
        case .connectionFailed, .connectionClosed, .library, .notConnected: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .invalidURL(let why): "invalid AMQP URL: \(why) (expected amqp[s]://user:password@host:port/vhost)"
        case .connectionFailed(let host, let port, let reason): "cannot connect to RabbitMQ at \(host):\(port): \(reason)"
        case .loginFailed(let reason): "RabbitMQ refused the login: \(reason); check the user, password and vhost"
        case .channelClosed(let code, let text): "RabbitMQ closed the channel (\(code)): \(text)"
        case .connectionClosed(let code, let text): "RabbitMQ closed the connection (\(code)): \(text)"
        case .unroutable(let exchange, let key, let reason): "no queue is bound for \(exchange) / \(key): \(reason)"
        case .nacked(let exchange, let key): "RabbitMQ refused the message for \(exchange) / \(key)"
        case .library(let op, let reason): "AMQP \(op) failed: \(reason)"
        case .notConnected: "not connected to RabbitMQ"
        }
    }
}

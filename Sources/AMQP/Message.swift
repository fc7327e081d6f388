import Foundation

/// The AMQP properties the service sets and reads.
public struct MessageProperties: Sendable, Equatable {
    public var contentType: String?
    public var messageId: String?
    public var correlationId: String?
    public var replyTo: String?
    public var type: String?
    public var appId: String?
    /// Per-message TTL in milliseconds (AMQP `expiration`), for messages that are stale soon.
    public var expiration: String?
    /// The publishing user. RabbitMQ refuses a publish whose `user_id` is not the connection's own
    /// user (unless that user has the `impersonator` tag), so on a delivery it says who published.
    public var userId: String?
    /// Persistent (2) by default: every message of the service must survive a broker restart.
    public var persistent: Bool
    public var headers: [(String, AMQPValue)]

    public init(contentType: String? = nil, messageId: String? = nil, correlationId: String? = nil, replyTo: String? = nil,
                type: String? = nil, appId: String? = nil, expiration: String? = nil, userId: String? = nil, persistent: Bool = true,
                headers: [(String, AMQPValue)] = []) {
        self.contentType = contentType
        self.messageId = messageId
        self.correlationId = correlationId
        self.replyTo = replyTo
        self.type = type
        self.appId = appId
        self.expiration = expiration
        self.userId = userId
        self.persistent = persistent
        self.headers = headers
    }

    public static func == (lhs: MessageProperties, rhs: MessageProperties) -> Bool {
        lhs.contentType == rhs.contentType && lhs.messageId == rhs.messageId && lhs.correlationId == rhs.correlationId
            && lhs.replyTo == rhs.replyTo && lhs.type == rhs.type && lhs.appId == rhs.appId && lhs.expiration == rhs.expiration
            && lhs.userId == rhs.userId && lhs.persistent == rhs.persistent
            && AMQPValue.table(lhs.headers) == AMQPValue.table(rhs.headers)
    }

    /// A header's value.
    public func header(_ name: String) -> AMQPValue? { headers.first { $0.0 == name }?.1 }

    /// A header's integer value (e.g. quorum queues' `x-delivery-count`).
    public func intHeader(_ name: String) -> Int? {
        for (key, value) in headers where key == name { if case .int(let n) = value { return n } }
        return nil
    }
}

/// A message handed to a consumer; settle it with ``AMQPConnection/ack(_:)`` or ``AMQPConnection/reject(_:requeue:)``.
public struct Delivery: Sendable {
    public var body: [UInt8]
    public var exchange: String
    public var routingKey: String
    public var deliveryTag: UInt64
    public var redelivered: Bool
    /// The consumer tag, which ``AMQPConnection/consume(queues:prefetch:)`` sets to the queue's name.
    public var consumerTag: String
    /// The queue the delivery came from.
    public var queue: String { consumerTag }
    public var properties: MessageProperties
}

/// A message to publish: where it goes and what it carries.
public struct OutgoingMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var properties: MessageProperties
    /// A message no queue takes is an error (basic.return) rather than silently dropped.
    public var mandatory: Bool

    public init(exchange: String, routingKey: String, body: [UInt8], properties: MessageProperties, mandatory: Bool = true) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
    }
}

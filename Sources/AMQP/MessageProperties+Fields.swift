import CRabbitMQ

extension MessageProperties {
    /// The text properties and where librabbitmq keeps each in `amqp_basic_properties_t`, with
    /// the flag that says it is set: the one table of them (a publish's properties are written
    /// from it).
    static let textFields: [(property: WritableKeyPath<MessageProperties, String?> & Sendable,
                             field: WritableKeyPath<amqp_basic_properties_t, amqp_bytes_t> & Sendable, flag: Int32)] = [
        (\.contentType, \.content_type, AMQP_BASIC_CONTENT_TYPE_FLAG),
        (\.messageId, \.message_id, AMQP_BASIC_MESSAGE_ID_FLAG),
        (\.correlationId, \.correlation_id, AMQP_BASIC_CORRELATION_ID_FLAG),
        (\.replyTo, \.reply_to, AMQP_BASIC_REPLY_TO_FLAG),
        (\.type, \.type, AMQP_BASIC_TYPE_FLAG),
        (\.appId, \.app_id, AMQP_BASIC_APP_ID_FLAG),
        (\.expiration, \.expiration, AMQP_BASIC_EXPIRATION_FLAG),
        (\.userId, \.user_id, AMQP_BASIC_USER_ID_FLAG),
    ]
}

import Foundation
import GeoRepCore

/// The service's messages on the wire: commands to the commands exchange, events to the
/// events exchange, rejects to the dead-letter exchange with their reason. All publishes wait
/// for the broker's confirm.
public struct GeoRepBus: Sendable {
    public let connection: AMQPConnection
    /// CloudEvents `source` of what this process publishes.
    public let source: String
    public let topology: GeoRepTopology

    public init(connection: AMQPConnection, source: String, topology: GeoRepTopology) {
        self.connection = connection
        self.source = source
        self.topology = topology
    }

    /// Sends a command to its cluster's shard (``CommandRouting``). `replyTo` names a queue that
    /// also gets the result.
    public func send(_ command: Command, replyTo: String? = nil) async throws {
        try await connection.publish([try message(command, replyTo: replyTo)])
    }

    /// A command as it goes to the commands exchange, with this connection's user as `user_id`:
    /// the broker vouches for it, and the workers grant options by it (``OptionGrant``).
    public func message(_ command: Command, replyTo: String? = nil) throws -> OutgoingMessage {
        OutgoingMessage(
            exchange: topology.commandsExchange, routingKey: CommandRouting.routingKey(for: command.session), body: try MessageCodec.encode(command, source: source),
            properties: MessageProperties(
                contentType: MessageCodec.contentType, messageId: command.commandId.uuidString.lowercased(),
                correlationId: command.commandId.uuidString.lowercased(), replyTo: replyTo, type: command.eventType, appId: source,
                userId: connection.configuration.user))
    }

    /// The header in which a worker forwards a command's publisher when it puts the command back
    /// for a later try under its own user.
    static let publisherHeader = "x-georep-publisher"

    /// The AMQP user a delivered command speaks for (``OptionGrant/publisher(userId:ownUser:forwarded:)``):
    /// its `user_id`, or the publisher a worker forwarded when it put the command back for a retry.
    public func publisher(of delivery: Delivery) -> String? {
        var forwarded: String?
        if case .string(let user) = delivery.properties.header(Self.publisherHeader) { forwarded = user }
        return OptionGrant.publisher(userId: delivery.properties.userId, ownUser: connection.configuration.user, forwarded: forwarded)
    }

    /// Publishes an event; `correlationId` ties a command result to its command.
    public func publish(_ event: Event, correlationId: String? = nil, replyTo: String? = nil) async throws {
        try await connection.publish(try messages(event, correlationId: correlationId, replyTo: replyTo))
    }

    /// Publishes events in order, confirmed as one lot.
    public func publish(_ events: [Event]) async throws {
        try await connection.publish(try events.map { try message($0, correlationId: nil) })
    }

    /// Publishes `events`, then `last` (a command's result, with its reply), in order on one
    /// channel and confirmed as one lot: one round trip to the broker instead of two.
    public func publish(_ events: [Event], then last: Event, correlationId: String?, replyTo: String?) async throws {
        try await connection.publish(try events.map { try message($0, correlationId: nil) }
            + messages(last, correlationId: correlationId, replyTo: replyTo))
    }

    /// An event, and its copy for `replyTo` when a caller waits for it.
    func messages(_ event: Event, correlationId: String?, replyTo: String?) throws -> [OutgoingMessage] {
        var messages = [try message(event, correlationId: correlationId)]
        if let replyTo {
            // RPC-style reply through the default exchange; not mandatory: the caller may have gone.
            var reply = messages[0]
            reply.exchange = ""
            reply.routingKey = replyTo
            reply.mandatory = false
            messages.append(reply)
        }
        return messages
    }

    /// An event as it goes on the events exchange.
    public func message(_ event: Event, correlationId: String?) throws -> OutgoingMessage {
        let id = UUID()
        let body = try MessageCodec.encode(event, id: id, source: source)
        let properties = MessageProperties(
            contentType: MessageCodec.contentType, messageId: id.uuidString.lowercased(), correlationId: correlationId,
            type: event.type, appId: source)
        return OutgoingMessage(exchange: topology.eventsExchange, routingKey: event.routingKey, body: body, properties: properties)
    }

    /// Sends a command back to be tried again after the retry delay, on its own shard.
    /// The broker would refuse the publisher's `user_id` on this connection: the command goes
    /// back under this process's user, and its publisher travels in a header for the grant.
    public func retryLater(_ delivery: Delivery, session: SessionRef, attempt: Int) async throws {
        var properties = delivery.properties
        let publisher = publisher(of: delivery)
        properties.userId = connection.configuration.user
        properties.headers.removeAll { $0.0 == "x-georep-attempt" || $0.0 == Self.publisherHeader }
        properties.headers.append(("x-georep-attempt", .int(attempt)))
        // Always forwarded, empty for none: under this process's user the command must not
        // come to speak for this process.
        properties.headers.append((Self.publisherHeader, .string(publisher ?? "")))
        try await connection.publish(exchange: topology.retryExchange, routingKey: CommandRouting.routingKey(for: session), body: delivery.body, properties: properties)
    }

    /// Set on a rerouted command whose delivery was a redelivery: its first copy may have run.
    public static let mayHaveRunHeader = "x-georep-may-have-run"

    /// Sends a command on with `routingKey` (its cluster's), keeping what it carries; a
    /// redelivered one stays marked as one that may have run. Like a retry, it goes under this
    /// process's user with its publisher in a header.
    public func reroute(_ delivery: Delivery, routingKey: String) async throws {
        var properties = delivery.properties
        let publisher = publisher(of: delivery)
        properties.userId = connection.configuration.user
        properties.headers.removeAll { $0.0 == Self.mayHaveRunHeader || $0.0 == Self.publisherHeader }
        // Always forwarded, empty for none: under this process's user the command must not
        // come to speak for this process.
        properties.headers.append((Self.publisherHeader, .string(publisher ?? "")))
        if delivery.redelivered || (delivery.properties.intHeader("x-delivery-count") ?? 0) > 0 {
            properties.headers.append((Self.mayHaveRunHeader, .int(1)))
        }
        try await connection.publish(exchange: topology.commandsExchange, routingKey: routingKey, body: delivery.body, properties: properties)
    }

    // MARK: The workers' control messages

    /// A worker's heartbeat (or its leaving note) to every worker; it expires unheard after
    /// `lifetime`, as the worker would be counted gone by then anyway.
    public func announce(_ beat: WorkerHeartbeat, lifetime: Duration) async throws {
        let milliseconds = lifetime.components.seconds * 1000 + lifetime.components.attoseconds / 1_000_000_000_000_000
        try await connection.publish(exchange: topology.membershipExchange, routingKey: "", body: try Self.encode(beat),
                                     properties: MessageProperties(contentType: "application/json", type: WorkerHeartbeat.type,
                                                                   expiration: String(milliseconds), persistent: false),
                                     mandatory: false)
    }

    /// A handover marker at the end of a shard queue.
    public func putHandoverMarker(_ marker: HandoverMarker, on queue: String) async throws {
        try await connection.publish(exchange: "", routingKey: queue, body: try Self.encode(marker),
                                     properties: MessageProperties(contentType: "application/json", type: HandoverMarker.type))
    }

    /// A journal marker at the end of the journal stream.
    public func putJournalMarker(_ marker: JournalMarker) async throws {
        try await connection.publish(exchange: "", routingKey: topology.journalQueue, body: try Self.encode(marker),
                                     properties: MessageProperties(contentType: "application/json", type: JournalMarker.type))
    }

    /// Monitor ticks, each to its cluster's shard (``CommandRouting``), confirmed as one lot.
    public func send(_ ticks: [MonitorTick]) async throws {
        guard !ticks.isEmpty else { return }
        try await connection.publish(try ticks.map { tick in
            OutgoingMessage(exchange: topology.commandsExchange, routingKey: CommandRouting.routingKey(cluster: tick.cluster),
                            body: try Self.encode(tick),
                            properties: MessageProperties(contentType: "application/json", type: MonitorTick.type), mandatory: false)
        })
    }

    /// A control message read back from a delivery.
    public static func decode<Message: Decodable>(_ type: Message.Type, from delivery: Delivery) throws -> Message {
        try MessageCodec.decoder().decode(type, from: Data(delivery.body))
    }

    static func encode<Message: Encodable>(_ message: Message) throws -> [UInt8] { Array(try MessageCodec.encoder().encode(message)) }

    /// Moves a message that cannot be processed to the dead-letter queue, with why, then the
    /// caller acks the original. The body is kept as it came; the publisher's `user_id`, which
    /// the broker would refuse on this connection, moves to the `x-georep-publisher` header.
    public func deadLetter(_ delivery: Delivery, from queue: String, code: String, reason: String) async throws {
        var properties = delivery.properties
        let publisher = publisher(of: delivery)
        properties.userId = nil
        properties.headers.removeAll { $0.0.hasPrefix("x-georep-") }
        properties.headers += [
            ("x-georep-reason", .string(String(reason.prefix(1000)))),
            ("x-georep-error-code", .string(code)),
            ("x-georep-source-queue", .string(queue)),
            ("x-georep-rejected-by", .string(source)),
        ]
        if let publisher { properties.headers.append((Self.publisherHeader, .string(publisher))) }
        try await connection.publish(exchange: topology.deadLetterExchange, routingKey: "\(queue).\(code)",
                                     body: delivery.body, properties: properties)
    }
}

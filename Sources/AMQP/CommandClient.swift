import Foundation
import GeoRepCore
import Logging

/// Sends commands and waits for their results: what `georep publish`, the demo and (later) the
/// HTTP API use. Results come back on a private, exclusive queue, either as direct replies
/// (`reply_to`) or, with `watchEvents`, as every event on the events exchange.
public final class CommandClient: Sendable {
    let publisher: AMQPConnection
    let consumer: AMQPConnection
    public let bus: GeoRepBus
    /// The private queue's name.
    public let queue: String
    let watchesEvents: Bool
    private let inbox = Inbox()
    private let pump: Task<Void, Never>

    public static func connect(url: String, source: String, topology: GeoRepTopology, watchEvents: Bool,
                               logger: Logger) async throws -> CommandClient {
        let connections = ConnectionSupervisor(configuration: try AMQPConfiguration(url: url), name: source,
                                               topology: topology.declarations, logger: logger)
        let publisher = try await connections.open(role: "publish", declaring: false)
        let consumer: AMQPConnection
        do { consumer = try await connections.open(role: "replies") } catch {
            await publisher.close()
            throw error
        }
        let queue = try await consumer.declareTemporaryQueue(
            bindings: watchEvents ? [(topology.eventsExchange, GeoRepTopology.allEventsKey)] : [])
        let stream = try await consumer.consume(queues: [queue], prefetch: 256)
        return CommandClient(publisher: publisher, consumer: consumer, source: source, topology: topology, queue: queue,
                             watchEvents: watchEvents, stream: stream, logger: logger)
    }

    private init(publisher: AMQPConnection, consumer: AMQPConnection, source: String, topology: GeoRepTopology, queue: String, watchEvents: Bool,
                 stream: AsyncThrowingStream<Delivery, Error>, logger: Logger) {
        self.publisher = publisher
        self.consumer = consumer
        self.bus = GeoRepBus(connection: publisher, source: source, topology: topology)
        self.queue = queue
        self.watchesEvents = watchEvents
        let inbox = self.inbox
        pump = Task {
            do {
                for try await delivery in stream {
                    await inbox.append(Result { () throws(MessageError) in try MessageCodec.decodeEvent(delivery.body) })
                    try await consumer.ack(delivery)
                }
            } catch {
                // Results sent from now on are lost to this client: whoever waits gets noResult and
                // the command's outcome stays in the journal and in PostgreSQL.
                if !Task.isCancelled {
                    logger.warning("lost the connection that brings results back", metadata: ["queue": "\(queue)", "error": "\(error)"])
                }
            }
            await inbox.close()
        }
    }

    /// Publishes a command (confirmed by the broker) without waiting for its result.
    public func send(_ command: Command) async throws {
        try await bus.send(command, replyTo: watchesEvents ? nil : queue)
    }

    /// Publishes raw bytes as a command, e.g. to show how bad input is rejected.
    public func sendRaw(_ body: [UInt8], routingKey: String) async throws {
        try await publisher.publish(exchange: bus.topology.commandsExchange, routingKey: routingKey, body: body,
                                    properties: MessageProperties(contentType: MessageCodec.contentType, replyTo: watchesEvents ? nil : queue))
    }

    /// The next event that arrived, or nil after `timeout` seconds.
    public func nextEvent(timeout: Double) async -> Result<(header: CloudEventHeader, event: Event), MessageError>? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let next = await inbox.take() { return next }
            if await inbox.isClosed { return nil }
            // Polling; a cancelled sleep only makes the loop look again before the deadline.
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Sends `command` and waits for its result; `onEvent` sees every other event meanwhile.
    public func run(_ command: Command, timeout: Double, onEvent: (Event) -> Void = { _ in }) async throws -> CommandResult {
        try await send(command)
        return try await waitForResult(of: command.commandId, timeout: timeout, onEvent: onEvent)
    }

    public func waitForResult(of commandId: UUID, timeout: Double, onEvent: (Event) -> Void = { _ in }) async throws -> CommandResult {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard let next = await nextEvent(timeout: deadline.timeIntervalSinceNow) else { break }
            guard case .success(let (_, event)) = next else { continue }
            if case .commandResult(let result) = event, result.commandId == commandId { return result }
            onEvent(event)
        }
        throw CommandClientError.noResult(commandId: commandId, seconds: timeout)
    }

    public func close() async {
        pump.cancel()
        await consumer.close()
        await publisher.close()
    }
}

public enum CommandClientError: Error, CustomStringConvertible {
    case noResult(commandId: UUID, seconds: Double)

    public var description: String {
        switch self {
        case .noResult(let id, let s):
            "no result for command \(id.uuidString.lowercased()) within \(Int(s)) s; is a worker running (georep worker)?"
        }
    }
}

private actor Inbox {
    private var items: [Result<(header: CloudEventHeader, event: Event), MessageError>] = []
    private(set) var isClosed = false

    func append(_ item: Result<(header: CloudEventHeader, event: Event), MessageError>) { items.append(item) }
    func take() -> Result<(header: CloudEventHeader, event: Event), MessageError>? { items.isEmpty ? nil : items.removeFirst() }
    func close() { isClosed = true }
}

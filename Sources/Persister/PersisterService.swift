import AMQP
import Foundation
import GeoRepCore
import Logging
import Postgres
import ServiceLifecycle

/// Settings of the persister.
public struct PersisterConfiguration: Sendable {
    public var amqpURL: String
    public var postgresURL: String
    public var topology: GeoRepTopology
    /// Unsettled events the broker may hand over at once.
    public var prefetch: UInt16
    /// Names this process in connection names and event sources.
    public var instance: String

    public init(amqpURL: String, postgresURL: String, topology: GeoRepTopology = GeoRepTopology(), prefetch: UInt16 = 64,
                instance: String = ProcessIdentity.name) {
        self.amqpURL = amqpURL
        self.postgresURL = postgresURL
        self.topology = topology
        self.prefetch = prefetch
        self.instance = instance
    }
}

/// Consumes events and writes sessions, brick details and options into PostgreSQL.
///
/// At-least-once: an event is acked only after its transaction committed; a crash or lost
/// connection before that gets it redelivered, and the observation stamps make the replay
/// harmless. An event that cannot be read, or that PostgreSQL refuses for its content, goes to
/// the dead-letter queue with the reason and the stream goes on.
public struct PersisterService: Service {
    let configuration: PersisterConfiguration
    let logger: Logger
    let store = EventStore()

    public init(configuration: PersisterConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let amqp = try AMQPConfiguration(url: configuration.amqpURL)
        let database = PGConnection(url: configuration.postgresURL, name: "persister", logger: logger)
        let supervisor = ConnectionSupervisor(configuration: amqp, name: "georep persister \(configuration.instance)",
                                              topology: configuration.topology.topology, logger: logger)
        await supervisor.run(shouldStop: { Task.isCancelled || Task.isShuttingDownGracefully }) { consumer, publisher in
            let bus = GeoRepBus(connection: publisher, source: "georep/persister/\(configuration.instance)", topology: configuration.topology)
            let stream = try await consumer.consume(queues: [configuration.topology.persisterQueue], prefetch: configuration.prefetch)
            logger.info("persister consuming", metadata: ["queue": "\(configuration.topology.persisterQueue)"])
            for try await delivery in stream.cancelOnGracefulShutdown() {
                try await handle(delivery, consumer: consumer, bus: bus, database: database)
            }
        }
        await database.close()
        logger.info("persister stopped")
    }

    func handle(_ delivery: Delivery, consumer: AMQPConnection, bus: GeoRepBus, database: PGConnection) async throws {
        let decoded: (header: CloudEventHeader, event: Event)
        do {
            decoded = try MessageCodec.decodeEvent(delivery.body)
        } catch {
            logger.warning("dead-lettering an unreadable event", metadata: ["code": "\(error.code)", "reason": "\(error)"])
            try await bus.deadLetter(delivery, from: configuration.topology.persisterQueue, code: error.code, reason: error.description)
            try await consumer.ack(delivery)
            return
        }
        var backoff = Backoff()
        while true {
            do {
                let event = decoded.event
                try await database.run { (db) throws(PGError) in
                    try db.transaction { () throws(PGError) in try store.apply(event, in: db) }
                }
                logger.debug("stored event", metadata: ["type": "\(decoded.header.type)", "session": "\(decoded.header.subject ?? "-")"])
                break
            } catch let error where error.isConnectionLoss {
                // Keep the event unacked and retry: PostgreSQL restarts must lose nothing.
                logger.warning("PostgreSQL unavailable; retrying", metadata: ["error": "\(error)"])
                if Task.isCancelled { throw error }
                try await Task.sleep(for: .seconds(backoff.next()))
            } catch {
                logger.error("dead-lettering an event PostgreSQL refused", metadata: ["type": "\(decoded.header.type)", "error": "\(error)"])
                try await bus.deadLetter(delivery, from: configuration.topology.persisterQueue, code: "store_refused", reason: error.description)
                break
            }
        }
        try await consumer.ack(delivery)
    }
}

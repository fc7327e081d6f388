import AMQP
import Foundation
import GeoRepCore
import Logging
import Observability
import Postgres
import ServiceLifecycle

/// Settings of the persister.
public struct PersisterConfiguration: Sendable {
    public var amqpURL: String
    public var postgresURL: String
    public var topology: GeoRepTopology
    /// Unsettled events the broker may hand over at once (at least one batch).
    public var prefetch: UInt16
    /// Events written in one transaction at most.
    public var maxBatch: Int
    /// How long a batch waits to fill before it is written anyway.
    public var maxBatchDelay: Duration
    /// Batches written at once, each on a PostgreSQL connection of its own.
    public var writers: Int
    /// Names this process in connection names and event sources.
    public var instance: String

    public init(amqpURL: String, postgresURL: String, topology: GeoRepTopology = GeoRepTopology(), maxBatch: Int = 500,
                maxBatchDelay: Duration = .milliseconds(20), writers: Int = 2, instance: String = ProcessIdentity.name) {
        self.maxBatch = max(1, maxBatch)
        self.writers = max(1, writers)
        self.maxBatchDelay = maxBatchDelay
        // Room for the batches being written and the next ones filling meanwhile.
        let prefetch = UInt16(clamping: max(64, self.maxBatch * (self.writers + 2)))
        self.amqpURL = amqpURL
        self.postgresURL = postgresURL
        self.topology = topology
        self.prefetch = prefetch
        self.instance = instance
    }
}

/// Consumes events and writes sessions, brick details and options into PostgreSQL.
///
/// Batches: deliveries gather until `maxBatch` or `maxBatchDelay`, the whole batch is written in
/// one transaction, and only then acked (one multiple-ack). Up to `writers` batches are written at
/// once on connections of their own, so PostgreSQL works on one while the next is built; acks
/// still go in the order the batches were taken (``AckSequencer``), and the observation stamps
/// make the order of the commits irrelevant to what is stored. At-least-once: a crash or lost
/// connection before the commit gets the batch redelivered, and the observation stamps make the
/// replay harmless. An event that cannot be read goes to the dead-letter queue with the reason at
/// once; if PostgreSQL refuses a batch for its content, the batch is written event by event so
/// that only the refused event is dead-lettered and the rest still commits.
public struct PersisterService: Service {
    let configuration: PersisterConfiguration
    let logger: Logger
    let store = EventStore()
    /// `amqp` and `postgres`: up while the consumer is connected and PostgreSQL answers.
    public let health: ServiceHealth

    public init(configuration: PersisterConfiguration, health: ServiceHealth = ServiceHealth(dependencies: ["amqp", "postgres"]),
                logger: Logger) {
        self.configuration = configuration
        self.health = health
        self.logger = logger
    }

    public func run() async throws {
        let amqp = try AMQPConfiguration(url: configuration.amqpURL)
        let databases = (0..<configuration.writers).map { PGConnection(url: configuration.postgresURL, name: "persister \($0)", logger: logger) }
        let database = databases[0]
        let health = self.health
        let supervisor = ConnectionSupervisor(configuration: amqp, name: "georep persister \(configuration.instance)",
                                              topology: configuration.topology.declarations, logger: logger) { up in
            if !up && health.snapshot["amqp"] == true { GeoRepMetrics.reconnect(target: "amqp", role: "persister") }
            health.set("amqp", up: up)
        }
        // PostgreSQL's readiness, also while no events come.
        let probe = Task {
            var wasUp: Bool?  // nil before the first probe: its failure is said too
            while !Task.isCancelled {
                let error = await attempt(database) { (db) throws(PGError) in try db.execute("SELECT 1") }
                if let error, wasUp != false {
                    logger.warning("PostgreSQL is unreachable; not ready", metadata: ["error": "\(error)"])
                }
                if error != nil { GeoRepMetrics.dropped(reason: "postgres_probe_failed", role: "persister") }
                wasUp = error == nil
                health.set("postgres", up: error == nil)
                // Only cancellation ends the sleep, and with it the loop.
                try? await Task.sleep(for: .seconds(5))
            }
        }
        defer { probe.cancel() }
        let queue = configuration.topology.persisterQueue
        await supervisor.run(shouldStop: { Task.isCancelled || Task.isShuttingDownGracefully }) { consumer, publisher in
            let bus = GeoRepBus(connection: publisher, source: "georep/persister/\(configuration.instance)", topology: configuration.topology)
            // Deliveries come from the connection's owner thread in arrays (what one read of the
            // socket brought), so the pump pays one resume and one hop into the batcher per array.
            let stream = try await consumer.consumeBatches(queues: [queue], prefetch: configuration.prefetch, maxBatch: 256)
            logger.info("persister consuming", metadata: ["queue": "\(queue)", "max_batch": "\(configuration.maxBatch)"])
            let batcher = Batcher<DecodedDelivery>()
            // The pump and the writer are children of this round: cancelling the service ends
            // the consumer stream, which finishes the batcher, which ends the writer.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        // Decoding here runs on the second core while the owner thread reads the
                        // socket and the writer waits for PostgreSQL.
                        for try await deliveries in stream.cancelOnGracefulShutdown() {
                            await batcher.append(contentsOf: deliveries.map { delivery in
                                DecodedDelivery(delivery: delivery, event: Result { () throws(MessageError) in
                                    try MessageCodec.decodeEvent(delivery.body).event
                                })
                            })
                        }
                        await batcher.finish(nil)
                    } catch {
                        await batcher.finish(error)
                    }
                }
                group.addTask {
                    let acks = AckSequencer<Delivery>()
                    try await withThrowingTaskGroup(of: PGConnection.self) { writers in
                        var idle = databases
                        var number: UInt64 = 0
                        while true {
                            // A batch is taken only when a connection is free to write it: it
                            // keeps filling meanwhile.
                            if idle.isEmpty, let freed = try await writers.next() { idle.append(freed) }
                            // A batch stops lingering once deliveries pause (a light load): the
                            // publish→commit latency, while under load the batches still fill.
                            let batch = await batcher.next(maxSize: configuration.maxBatch, maxDelay: configuration.maxBatchDelay,
                                                           quiet: .milliseconds(2), together: sameSession)
                            guard !batch.isEmpty else { break }
                            let database = idle.removeLast()
                            let taken = number
                            number += 1
                            writers.addTask {
                                try await write(batch, number: taken, acks: acks, consumer: consumer, bus: bus, database: database)
                                return database
                            }
                        }
                        try await writers.waitForAll()
                    }
                    if let failure = await batcher.failure { throw failure }
                }
                try await group.waitForAll()
            }
        }
        for database in databases { await database.close() }
        logger.info("persister stopped")
    }

    /// Writes and acks one batch (the `number`th taken); what could not be decoded goes to the
    /// dead-letter queue.
    func write(_ batch: [DecodedDelivery], number: UInt64, acks: AckSequencer<Delivery>, consumer: AMQPConnection, bus: GeoRepBus,
               database: PGConnection) async throws {
        var events: [(delivery: Delivery, event: Event)] = []
        events.reserveCapacity(batch.count)
        for item in batch {
            switch item.event {
            case .success(let event):
                events.append((item.delivery, event))
            case .failure(let error):
                logger.warning("dead-lettering an unreadable event", metadata: ["code": "\(error.code)", "reason": "\(error)"])
                try await bus.deadLetter(item.delivery, from: configuration.topology.persisterQueue, code: error.code, reason: error.description)
                GeoRepMetrics.deadLettered(code: error.code, role: "persister")
            }
        }
        if !events.isEmpty {
            do {
                try await commit(events.map(\.event), database: database)
                logger.debug("stored a batch", metadata: ["events": "\(events.count)"])
                GeoRepMetrics.persisterBatch(size: events.count)
                if let oldest = events.map({ observedAt($0.event) }).min() { GeoRepMetrics.persisterLag(seconds: Date().timeIntervalSince(oldest)) }
            } catch {
                // PostgreSQL refused the batch for its content: find the event it refuses.
                logger.warning("a batch was refused; writing it event by event", metadata: ["error": "\(error)"])
                for (delivery, event) in events {
                    do { try await commit([event], database: database) } catch {
                        logger.error("dead-lettering an event PostgreSQL refused", metadata: ["type": "\(event.type)", "error": "\(error)"])
                        try await bus.deadLetter(delivery, from: configuration.topology.persisterQueue, code: "store_refused", reason: "\(error)")
                        GeoRepMetrics.deadLettered(code: "store_refused", role: "persister")
                    }
                }
            }
        }
        if let last = batch.last { try acks.written(number, last: last.delivery) { (d) throws(AMQPError) in try consumer.queueAckAll(upTo: d) } }
    }

    private func attempt(_ database: PGConnection, _ body: @escaping @Sendable (PGSession) throws(PGError) -> Void) async -> PGError? {
        do {
            try await database.run(body)
            return nil
        } catch {
            return error
        }
    }

    /// One transaction; waits out PostgreSQL being away (restart) without acking anything, and
    /// runs again a transaction that lost to another one (a deadlock between two writers).
    /// Throws only what PostgreSQL says about the content.
    func commit(_ events: [Event], database: PGConnection) async throws {
        var backoff = Backoff()
        var lost = 0
        let store = self.store
        while true {
            let result: PGError? = await attempt(database) { (db) throws(PGError) in
                _ = try store.commit(batch: events, in: db)
            }
            guard let error = result else {
                health.set("postgres", up: true)
                return
            }
            if error.isContention && lost < 10 {
                lost += 1
                logger.info("a batch lost to another transaction; writing it again", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...20)))
                continue
            }
            guard error.isConnectionLoss else { throw error }
            if health.snapshot["postgres"] == true { GeoRepMetrics.reconnect(target: "postgres", role: "persister") }
            health.set("postgres", up: false)
            logger.warning("PostgreSQL unavailable; retrying", metadata: ["error": "\(error)"])
            try await Task.sleep(for: .seconds(backoff.next()))
        }
    }
}

/// A delivery and what decoding it gave.
struct DecodedDelivery: Sendable {
    var delivery: Delivery
    var event: Result<Event, MessageError>
}

/// Whether two decoded deliveries are events about the same session.
@Sendable func sameSession(_ a: DecodedDelivery, _ b: DecodedDelivery) -> Bool {
    guard case .success(let x) = a.event, case .success(let y) = b.event, let session = x.sessionID else { return false }
    return session == y.sessionID
}

/// When an event's state was observed (a result: when its command finished).
func observedAt(_ event: Event) -> Date {
    switch event {
    case .commandResult(let r): r.finishedAt
    case .sessionStatusChanged(let e): e.observation.at
    case .brickStatusChanged(let e): e.observation.at
    case .sessionSnapshot(let e): e.observation.at
    case .sessionDeleted(let e): e.observation.at
    case .clusterInventory(let e): e.observation.at
    case .commandAccepted(let e): e.acceptedAt
    case .clusterAvailability(let e): e.observedAt
    case .checkpointCompleted(let e): e.observation.at
    case .checkpointStalled(let e): e.observation.at
    case .commandWaiting(let e): e.since
    case .scheduleSet(let e): e.publishedAt
    case .windowOpened(let e): e.openedAt
    case .windowClosed(let e): e.closedAt
    }
}

extension PersisterService: CustomStringConvertible {
    /// What lifecycle logs show of the service: never its URLs (they carry passwords).
    public var description: String { "PersisterService(instance: \(configuration.instance), queue: \(configuration.topology.persisterQueue))" }
}

extension PersisterConfiguration: CustomStringConvertible {
    public var description: String {
        // A description only: the URL was checked at start, `(unreadable URL)` cannot hide a fault.
        "PersisterConfiguration(amqp: \((try? AMQPConfiguration(url: amqpURL).redacted) ?? "(unreadable URL)"), max_batch: \(maxBatch), writers: \(writers))"
    }
}

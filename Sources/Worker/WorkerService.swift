import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging
import Observability
import ServiceLifecycle

/// A worker: finds the other workers, takes its share of the command shards, runs commands on
/// gluster, publishes events, and monitors the clusters whose shard it owns so that changes
/// made outside the service are seen too.
public struct WorkerService: Service {
    let configuration: WorkerConfiguration
    let logger: Logger
    let tracker = SessionTracker()
    let journal = CommandJournal()
    /// `amqp` is up while the worker's connections are.
    public let health: ServiceHealth

    public init(configuration: WorkerConfiguration, health: ServiceHealth = ServiceHealth(dependencies: ["amqp"]), logger: Logger) {
        self.configuration = configuration
        self.health = health
        self.logger = logger
    }

    public func run() async throws {
        let amqp = try AMQPConfiguration(url: configuration.amqpURL)
        var gluster = GlusterExecutor(inventory: configuration.inventory, commandTimeout: configuration.glusterTimeout,
                                      glusterProgram: configuration.glusterProgram, logger: logger)
        gluster.observer = { call in
            GeoRepMetrics.glusterCall(operation: call.operation, transport: call.transport, seconds: call.seconds)
            CommandTiming.current?.addGluster(seconds: call.seconds)
        }
        let reader = SessionReader(gluster: gluster, tracker: tracker, logger: logger)
        let instance = configuration.instance
        let handler = CommandHandler(gluster: gluster, reader: reader, journal: journal, maxAttempts: configuration.maxAttempts,
                                     journalSyncTimeout: .seconds(20), instance: instance, adminPublishers: configuration.adminPublishers,
                                     logger: logger)
        let gate = ConcurrencyGate(limit: configuration.concurrency)
        let topology = configuration.topology
        let name = "georep worker \(instance)"
        let membership = Membership(me: instance, expiry: configuration.heartbeatInterval * 3)
        let follower = JournalFollower(configuration: amqp, topology: topology, journal: journal, tracker: tracker, name: name, logger: logger)
        let health = self.health
        let supervisor = ConnectionSupervisor(configuration: amqp, name: name, topology: topology.declarations, logger: logger) { up in
            if !up && health.snapshot["amqp"] == true { GeoRepMetrics.reconnect(target: "amqp", role: "worker") }
            health.set("amqp", up: up)
        }

        await withTaskGroup(of: Void.self) { outer in
            outer.addTask { await follower.run() }
            outer.addTask {
                await supervisor.run(shouldStop: { Task.isCancelled || Task.isShuttingDownGracefully }) { consumer, publisher in
                    let bus = GeoRepBus(connection: publisher, source: "georep/worker/\(instance)", topology: topology)
                    let deliveries = try await consumer.deliveries()
                    let membershipQueue = try await consumer.declareTemporaryQueue(bindings: [(topology.membershipExchange, "")])
                    try await consumer.addConsumer(queue: membershipQueue, prefetch: 100, tag: "membership")
                    let shards = ShardSet(consumer: consumer, bus: bus, instance: instance, logger: logger) { delivery in
                        await gate.acquire()
                        defer { Task { await gate.release() } }
                        try await handler.handle(delivery, consumer: consumer, bus: bus)
                    }
                    do {
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask { try await heartbeats(bus: bus, membership: membership, shards: shards) }
                            group.addTask {
                                for try await delivery in deliveries.cancelOnGracefulShutdown() {
                                    if delivery.consumerTag == "membership" {
                                        if let beat = try? MessageCodec.decoder().decode(WorkerHeartbeat.self, from: Data(delivery.body)) {
                                            await membership.heard(beat, leaving: beat.leaving == true)
                                        }
                                        try await consumer.ack(delivery)
                                    } else {
                                        await shards.route(delivery)
                                    }
                                }
                            }
                            group.addTask { try await monitor(reader: reader, bus: bus, shards: shards) }
                            group.addTask { try await shards.firstFailure() }
                            // Whichever ends first (shutdown, or a lost connection) ends the round.
                            try await group.next()
                            group.cancelAll()
                        }
                    } catch {
                        await shards.stop()
                        throw error
                    }
                    // Graceful: finish what the lanes hold, then tell the others to take over now.
                    await shards.drain()
                    let leaving = WorkerHeartbeat(instance: instance, shards: [], leaving: true)
                    try? await publisher.publish(exchange: topology.membershipExchange, routingKey: "",
                                                 body: Array(try MessageCodec.encoder().encode(leaving)),
                                                 properties: heartbeatProperties, mandatory: false)
                }
            }
            await outer.next()
            outer.cancelAll()
        }
        logger.info("worker stopped")
    }

    var heartbeatProperties: MessageProperties {
        MessageProperties(contentType: "application/json", type: WorkerHeartbeat.type,
                          expiration: String(Int(seconds(configuration.heartbeatInterval * 3) * 1000)), persistent: false)
    }

    /// Says this worker is alive, and after each beat takes the shards the live workers assign
    /// to it. The first assignment waits a little to hear the others first.
    private func heartbeats(bus: GeoRepBus, membership: Membership, shards: ShardSet) async throws {
        let interval = configuration.heartbeatInterval
        var first = true
        while !Task.isCancelled {
            let beat = WorkerHeartbeat(instance: configuration.instance, shards: await shards.held.sorted())
            try await bus.connection.publish(exchange: bus.topology.membershipExchange, routingKey: "",
                                             body: Array(try MessageCodec.encoder().encode(beat)), properties: heartbeatProperties,
                                             mandatory: false)
            if first {
                try await Task.sleep(for: interval + interval / 4)
                first = false
            }
            let members = await membership.members()
            let mine = ShardAssignment.shards(of: configuration.instance, members: members, count: bus.topology.shards)
            try await shards.reconcile(desired: mine)
            GeoRepMetrics.shardsHeld(await shards.held.count)
            try await Task.sleep(for: interval)
        }
    }

    /// Reads, once per interval, every cluster whose monitor shard this worker holds; a full
    /// snapshot when it starts watching a cluster and every `snapshotEvery` rounds after.
    private func monitor(reader: SessionReader, bus: GeoRepBus, shards: ShardSet) async throws {
        guard configuration.monitorInterval > 0 else { return try await gracefulShutdown() }
        var rounds: [String: Int] = [:]
        try await Task.sleep(for: configuration.heartbeatInterval * 2)  // the first assignment
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let held = await shards.held
            let mine = configuration.inventory.clusters.map(\.id)
                .filter { held.contains(ShardAssignment.monitorShard(ofCluster: $0, count: bus.topology.shards)) }
            rounds = rounds.filter { mine.contains($0.key) }
            for cluster in mine {
                // Ownership may have moved while this round read the clusters before.
                guard await shards.held.contains(ShardAssignment.monitorShard(ofCluster: cluster, count: bus.topology.shards)) else { continue }
                let round = rounds[cluster, default: 0]
                rounds[cluster] = round + 1
                let events = await reader.observeCluster(cluster, forceSnapshot: round % max(1, configuration.snapshotEvery) == 0)
                try await bus.publish(events)
                countPublished(events)
            }
            let statuses = await tracker.statusCounts(clusters: Set(mine))
            for status in GeoRepStatus.allCases { GeoRepMetrics.sessions(status: status.rawValue, count: statuses[status] ?? 0) }
            try await Task.sleep(for: .seconds(configuration.monitorInterval))
        }
    }
}

/// Counts published events by type for the metrics.
func countPublished(_ events: [Event]) {
    for (type, n) in Dictionary(grouping: events, by: \.type).mapValues(\.count) { GeoRepMetrics.eventsPublished(type: type, count: n) }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

extension WorkerService: CustomStringConvertible {
    /// What lifecycle logs show of the service: never its URLs (they carry passwords).
    public var description: String {
        "WorkerService(instance: \(configuration.instance), clusters: \(configuration.inventory.clusters.count), shards: \(configuration.topology.shards))"
    }
}

extension WorkerConfiguration: CustomStringConvertible {
    public var description: String {
        "WorkerConfiguration(amqp: \((try? AMQPConfiguration(url: amqpURL).redacted) ?? "(unreadable URL)"), instance: \(instance), shards: \(topology.shards))"
    }
}

import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging
import ServiceLifecycle

/// A worker: consumes commands from every shard (single-active-consumer lets one worker at a
/// time take each shard), runs them on gluster, publishes events, and monitors the clusters of
/// the inventory so that changes made outside the service are seen too.
public struct WorkerService: Service {
    let configuration: WorkerConfiguration
    let logger: Logger

    public init(configuration: WorkerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let amqp = try AMQPConfiguration(url: configuration.amqpURL)
        let gluster = GlusterExecutor(inventory: configuration.inventory, commandTimeout: configuration.glusterTimeout,
                                      glusterProgram: configuration.glusterProgram, logger: logger)
        let tracker = SessionTracker()
        let reader = SessionReader(gluster: gluster, tracker: tracker, logger: logger)
        let handler = CommandHandler(gluster: gluster, reader: reader, maxAttempts: configuration.maxAttempts, logger: logger)
        let source = "georep/worker/\(configuration.instance)"
        let supervisor = ConnectionSupervisor(configuration: amqp, name: "georep worker \(configuration.instance)",
                                              topology: configuration.topology.topology, logger: logger)
        await supervisor.run(shouldStop: { Task.isCancelled || Task.isShuttingDownGracefully }) { consumer, publisher in
            let bus = GeoRepBus(connection: publisher, source: source, topology: configuration.topology)
            let queues = configuration.topology.shardQueues
            let stream = try await consumer.consume(queues: queues, prefetch: 1)
            logger.info("worker consuming", metadata: ["shards": "\(queues.count)"])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await monitor(reader: reader, bus: bus) }
                group.addTask {
                    for try await delivery in stream.cancelOnGracefulShutdown() {
                        try await handler.handle(delivery, queue: delivery.queue, consumer: consumer, bus: bus)
                    }
                }
                // Whichever ends first (shutdown, or a lost connection) ends the round.
                try await group.next()
                group.cancelAll()
            }
        }
        logger.info("worker stopped")
    }

    /// Reads every cluster once per interval; a full snapshot every `snapshotEvery` rounds.
    private func monitor(reader: SessionReader, bus: GeoRepBus) async throws {
        guard configuration.monitorInterval > 0 else { return try await gracefulShutdown() }
        var round = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let full = round % max(1, configuration.snapshotEvery) == 0
            for cluster in configuration.inventory.clusters {
                for event in await reader.observeCluster(cluster.id, forceSnapshot: full) { try await bus.publish(event) }
            }
            round += 1
            try await Task.sleep(for: .seconds(configuration.monitorInterval))
        }
    }
}

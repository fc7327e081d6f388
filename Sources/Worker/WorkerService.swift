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
    let tracker: SessionTracker
    let journal = CommandJournal()
    let waits = PendingWaits()
    let windows = SyncWindows()
    /// `amqp` is up while the worker's connections are.
    public let health: ServiceHealth

    public init(configuration: WorkerConfiguration, health: ServiceHealth = ServiceHealth(dependencies: ["amqp"]), logger: Logger) {
        self.configuration = configuration
        self.tracker = SessionTracker(checkpointStallAfter: configuration.checkpointStallAfter, clockOffset: configuration.clockOffset)
        self.health = health
        self.logger = logger
    }

    public func run() async throws {
        let amqp = try AMQPConfiguration(url: configuration.amqpURL)
        var gluster = GlusterExecutor(inventory: configuration.inventory, commandTimeout: configuration.glusterTimeout,
                                      glusterProgram: configuration.glusterProgram, logger: logger)
        gluster.suspectAfter = configuration.glusterSuspectAfter
        let clusterHealth = gluster.health
        gluster.observer = { call in
            GeoRepMetrics.glusterCall(operation: call.operation, transport: call.transport, seconds: call.seconds)
            CommandTiming.current?.addGluster(seconds: call.seconds)
        }
        let reader = SessionReader(gluster: gluster, tracker: tracker, logger: logger)
        let instance = configuration.instance
        let touch = CheckpointTouch(gluster: gluster, enabled: configuration.touchAfterCheckpoint, logger: logger)
        let handler = CommandHandler(gluster: gluster, reader: reader, journal: journal, waits: waits, touch: touch,
                                     maxAttempts: configuration.maxAttempts,
                                     journalSyncTimeout: .seconds(20), instance: instance, adminPublishers: configuration.adminPublishers,
                                     logger: logger)
        let gate = ConcurrencyGate(limit: configuration.concurrency)
        let sync = JournalSync(journal: journal, instance: instance, timeout: .seconds(20))
        let keeper = SyncWindowKeeper(gluster: gluster, tracker: tracker, windows: windows, sync: sync, touch: touch, logger: logger)
        let monitor = ClusterMonitor(reader: reader, tracker: tracker, snapshotEvery: configuration.snapshotEvery, waits: waits, touch: touch,
                                     journal: journal, sync: sync, windows: keeper, logger: logger)
        let topology = configuration.topology
        let name = "georep worker \(instance)"
        let membership = Membership(me: instance, expiry: configuration.heartbeatInterval * 3)
        let follower = JournalFollower(configuration: amqp, topology: topology, journal: journal, tracker: tracker, waits: waits,
                                       windows: windows, name: name, logger: logger)
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
                        try await gate.withPermit {
                            if delivery.properties.type == MonitorTick.type {
                                try await monitor.handle(delivery, consumer: consumer, bus: bus)
                            } else {
                                try await handler.handle(delivery, consumer: consumer, bus: bus)
                            }
                            try await announceAvailability(clusterHealth, bus: bus)
                        }
                    }
                    do {
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask { try await heartbeats(bus: bus, membership: membership, shards: shards) }
                            group.addTask {
                                for try await delivery in deliveries.cancelOnGracefulShutdown() {
                                    if delivery.consumerTag == "membership" {
                                        do {
                                            let beat = try GeoRepBus.decode(WorkerHeartbeat.self, from: delivery)
                                            await membership.heard(beat, leaving: beat.leaving == true)
                                        } catch {
                                            logger.warning("ignoring an unreadable heartbeat", metadata: ["error": "\(error)"])
                                            GeoRepMetrics.dropped(reason: "unreadable_heartbeat", role: "worker")
                                        }
                                        try await consumer.ack(delivery)
                                    } else {
                                        await shards.route(delivery)
                                    }
                                }
                            }
                            group.addTask { try await ticks(bus: bus, membership: membership) }
                            group.addTask { try await waitTicks(bus: bus, membership: membership) }
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
                    do {
                        try await bus.announce(WorkerHeartbeat(instance: instance, shards: [], leaving: true), lifetime: heartbeatLifetime)
                    } catch {
                        // The others count this worker gone after three missed heartbeats instead.
                        logger.warning("could not say goodbye to the other workers", metadata: ["error": "\(error)"])
                        GeoRepMetrics.dropped(reason: "leaving_heartbeat", role: "worker")
                    }
                }
            }
            await outer.next()
            outer.cancelAll()
        }
        logger.info("worker stopped")
    }

    /// A heartbeat unheard for three intervals is stale: the worker counts as gone by then.
    var heartbeatLifetime: Duration { configuration.heartbeatInterval * 3 }

    /// Says this worker is alive, and after each beat takes the shards the live workers assign
    /// to it. The first assignment waits a little to hear the others first.
    private func heartbeats(bus: GeoRepBus, membership: Membership, shards: ShardSet) async throws {
        let interval = configuration.heartbeatInterval
        var first = true
        while !Task.isCancelled {
            let beat = WorkerHeartbeat(instance: configuration.instance, shards: await shards.held.sorted())
            try await bus.announce(beat, lifetime: heartbeatLifetime)
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

    /// Sends, once per monitor interval, a ``MonitorTick`` for every cluster whose ticker shard
    /// this worker would own among the live workers. The tick goes where the cluster's commands
    /// go, and whoever owns that shard reads the cluster in its turn (``ClusterMonitor``).
    private func ticks(bus: GeoRepBus, membership: Membership) async throws {
        guard configuration.monitorInterval > 0 else { return try await gracefulShutdown() }
        try await Task.sleep(for: configuration.heartbeatInterval * 2)  // hear the others first
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let members = await membership.members()
            let mine = configuration.inventory.clusters.map(\.id).filter { cluster in
                ShardAssignment.owner(of: ShardAssignment.tickerShard(ofCluster: cluster, count: bus.topology.shards),
                                      members: members) == configuration.instance
            }
            try await bus.send(mine.map { MonitorTick(cluster: $0, instance: configuration.instance) })
            try await Task.sleep(for: .seconds(configuration.monitorInterval))
        }
    }

    /// While a `checkpoint` with `wait` is pending, or a sync window is open or about to open, on a
    /// cluster whose ticks this worker sends, an extra tick every `waitTickInterval`: the wait's
    /// result, or the window's opening and closing, then follows within seconds instead of a
    /// monitor interval. The regular ticks remain the backstop.
    private func waitTicks(bus: GeoRepBus, membership: Membership) async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try await Task.sleep(for: configuration.waitTickInterval)
            let lead = max(configuration.monitorInterval, 1)
            let waiting = await waits.clusters.union(windows.busyClusters(now: Date(), lead: lead))
            guard !waiting.isEmpty else { continue }
            let members = await membership.members()
            let mine = waiting.sorted().filter { cluster in
                configuration.inventory.cluster(cluster) != nil
                    && ShardAssignment.owner(of: ShardAssignment.tickerShard(ofCluster: cluster, count: bus.topology.shards),
                                             members: members) == configuration.instance
            }
            try await bus.send(mine.map { MonitorTick(cluster: $0, instance: configuration.instance) })
        }
    }

    /// Publishes what the executor learnt about clusters' management planes (wedged, answering
    /// again); given back to be published with the next delivery if the broker refuses.
    private func announceAvailability(_ health: ClusterHealth, bus: GeoRepBus) async throws {
        let changes = health.takeChanges()
        guard !changes.isEmpty else { return }
        // The gauge says what the worker knows, announced or not (a reader of the event may look
        // at the metric right after it).
        for change in changes { GeoRepMetrics.clusterWedged(cluster: change.cluster, !change.available) }
        do {
            try await bus.publish(changes.map { Event.clusterAvailability($0) })
        } catch {
            health.giveBack(changes)
            throw error
        }
        for change in changes {
            logger.notice(change.available ? "cluster management plane available" : "cluster management plane unavailable",
                          metadata: ["cluster": "\(change.cluster)", "host": "\(change.host)", "cause": "\(change.cause)"])
        }
        countPublished(changes.map { Event.clusterAvailability($0) })
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
        // A description only: the URL was checked at start, `(unreadable URL)` cannot hide a fault.
        "WorkerConfiguration(amqp: \((try? AMQPConfiguration(url: amqpURL).redacted) ?? "(unreadable URL)"), instance: \(instance), shards: \(topology.shards))"
    }
}

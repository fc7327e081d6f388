import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging
import Observability

/// Reads a cluster when its ``MonitorTick`` reaches this worker's lane for the cluster's shard:
/// the monitor's reads take their turn with the commands that change the cluster, so no read of
/// ours ever reaches glusterd while a change of ours runs there (``CommandRouting``).
actor ClusterMonitor {
    private let reader: SessionReader
    private let tracker: SessionTracker
    private let snapshotEvery: Int
    private let logger: Logger
    /// When each cluster was last read by this worker, and how many rounds it had.
    private var lastRead: [String: Date] = [:]
    private var rounds: [String: Int] = [:]

    init(reader: SessionReader, tracker: SessionTracker, snapshotEvery: Int, logger: Logger) {
        self.reader = reader
        self.tracker = tracker
        self.snapshotEvery = max(1, snapshotEvery)
        self.logger = logger
    }

    /// Handles one tick delivery: reads the cluster unless it was read after the tick was sent,
    /// publishes what changed, acks.
    nonisolated func handle(_ delivery: Delivery, consumer: AMQPConnection, bus: GeoRepBus) async throws {
        let tick: MonitorTick
        do {
            tick = try GeoRepBus.decode(MonitorTick.self, from: delivery)
        } catch {
            // Only workers send ticks: an unreadable one is a bug, never a reason to stop a lane.
            logger.error("dropping an unreadable monitor tick", metadata: ["error": "\(error)"])
            GeoRepMetrics.dropped(reason: "unreadable_monitor_tick", role: "worker")
            try await consumer.ack(delivery)
            return
        }
        if let snapshot = await turn(for: tick) {
            let events = await reader.observeCluster(tick.cluster, forceSnapshot: snapshot)
            try await bus.publish(events)
            countPublished(events)
            await updateStatusMetrics()
        }
        try await consumer.ack(delivery)
    }

    /// Whether to read now (and whether as a full snapshot); nil when a read already followed the tick.
    private func turn(for tick: MonitorTick) -> Bool? {
        if let last = lastRead[tick.cluster], tick.sentAt < last { return nil }
        lastRead[tick.cluster] = Date()
        let round = rounds[tick.cluster, default: 0]
        rounds[tick.cluster] = round + 1
        return round % snapshotEvery == 0
    }

    /// Sessions by status over the clusters this worker has read lately.
    private func updateStatusMetrics() async {
        let recent = Set(lastRead.filter { $0.value > Date().addingTimeInterval(-600) }.keys)
        let statuses = await tracker.statusCounts(clusters: recent)
        for status in GeoRepStatus.allCases { GeoRepMetrics.sessions(status: status.rawValue, count: statuses[status] ?? 0) }
    }
}

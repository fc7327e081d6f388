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
    private let waits: PendingWaits
    private let touch: CheckpointTouch
    private let journal: CommandJournal
    private let sync: JournalSync
    /// Acts on the sessions' sync schedules of the clusters this worker reads (``SyncWindowKeeper``).
    private let windows: SyncWindowKeeper
    private let logger: Logger
    /// When each cluster was last read by this worker, and how many rounds it had.
    private var lastRead: [String: Date] = [:]
    private var rounds: [String: Int] = [:]

    init(reader: SessionReader, tracker: SessionTracker, snapshotEvery: Int, waits: PendingWaits, touch: CheckpointTouch, journal: CommandJournal,
         sync: JournalSync, windows: SyncWindowKeeper, logger: Logger) {
        self.reader = reader
        self.tracker = tracker
        self.snapshotEvery = max(1, snapshotEvery)
        self.waits = waits
        self.touch = touch
        self.journal = journal
        self.sync = sync
        self.windows = windows
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
            var events = await reader.observeCluster(tick.cluster, forceSnapshot: snapshot)
            var synced = false
            if events.contains(where: \.isCheckpointAnnouncement) {
                // Once per checkpoint, across handovers and restarts: the journal, brought up to
                // now, says whether another worker announced it first. Unsure: not now; the next
                // read finds it again.
                synced = await sync.catchUp(bus: bus, log: logger)
                events = synced ? await tracker.unannounced(events) : events.filter { !$0.isCheckpointAnnouncement }
            }
            try await bus.publish(events)
            for event in events where event.isCheckpointAnnouncement { await tracker.learn(event) }
            countPublished(events)
            synced = try await answerWaits(cluster: tick.cluster, synced: synced, bus: bus)
            countPublished(try await windows.round(cluster: tick.cluster, synced: synced, bus: bus))
            await updateStatusMetrics()
        }
        try await consumer.ack(delivery)
    }

    /// Publishes the result of every wait on `cluster` that the read just made decidable
    /// (``CheckpointWait``): exactly one per command, so the journal is brought up to now first
    /// and a result some worker already published (before a handover, or before it was killed)
    /// is not published again.
    /// Returns whether the journal was brought up to now in this round.
    private func answerWaits(cluster: String, synced: Bool, bus: GeoRepBus) async throws -> Bool {
        var synced = synced
        for wait in await waits.pending(cluster: cluster) {
            let (status, progress) = await tracker.checkpoint(of: wait.sessionId)
            let outcome: (CommandResult.Outcome, String, ErrorInfo?)
            switch CheckpointWait.decide(wait, status: status, progress: progress, now: Date()) {
            case .pending:
                // A brick that came back, or one nothing was written to: another touch (every 30 s at most).
                await touch.touch(wait.session)
                continue
            case .succeeded(let message): outcome = (.succeeded, message, nil)
            case .failed(let error): outcome = (.failed, error.message, error)
            }
            if !synced {
                guard await sync.catchUp(bus: bus, log: logger) else { return false }  // the next read tries again
                synced = true
            }
            guard await journal.result(of: wait.commandId) == nil else {
                await waits.answered(wait.commandId)
                continue
            }
            let result = CommandResult(commandId: wait.commandId, action: wait.action, session: wait.session, outcome: outcome.0,
                                       message: outcome.1, error: outcome.2)
            try await bus.publish(.commandResult(result), correlationId: wait.correlationId ?? wait.commandId.uuidString.lowercased(),
                                  replyTo: wait.replyTo)
            await journal.record(result)
            await waits.answered(wait.commandId)
            countPublished([.commandResult(result)])
            GeoRepMetrics.command(action: wait.action, outcome: result.outcome.rawValue)
            logger.info("checkpoint wait answered", metadata: [
                "command_id": "\(wait.commandId.uuidString.lowercased())", "session": "\(wait.session.key)",
                "outcome": "\(result.outcome.rawValue)", "message": "\(result.message)",
            ])
        }
        return synced
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

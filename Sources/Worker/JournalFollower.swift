import AMQP
import Foundation
import GeoRepCore
import Logging
import Synchronization
import Observability
import ServiceLifecycle

/// Reads the journal stream from its beginning (it keeps `journalMaxAge`) and then follows it:
/// command results go to the ``CommandJournal``, pending waits to ``PendingWaits``, status changes
/// and checkpoint announcements to the ``SessionTracker``, schedules and what was done in their
/// windows (and checkpoint completions) to ``SyncWindows``.
/// It has a connection of its own and reconnects on its own, resuming after the last offset read.
struct JournalFollower: Sendable {
    let configuration: AMQPConfiguration
    let topology: GeoRepTopology
    let journal: CommandJournal
    let tracker: SessionTracker
    let waits: PendingWaits
    let windows: SyncWindows
    let name: String
    let logger: Logger

    func run() async {
        // Where to go on after a reconnect: the stream keeps every entry, so the offset after the
        // last one read is all it takes not to read any twice.
        let next = Mutex<Int?>(nil)
        let supervisor = ConnectionSupervisor(configuration: configuration, name: "\(name) journal", topology: topology.declarations,
                                              publishes: false, logger: logger)
        await supervisor.run(shouldStop: { Task.isCancelled || Task.isShuttingDownGracefully }) { connection, _ in
            let stream = try await connection.deliveries()
            let offset: AMQPValue = next.withLock { $0 }.map { .int($0) } ?? .string("first")
            try await connection.addConsumer(queue: topology.journalQueue, prefetch: 1000, tag: "journal",
                                             arguments: [("x-stream-offset", offset)])
            var unacked = 0
            for try await delivery in stream.cancelOnGracefulShutdown() {
                await take(delivery)
                if let offset = delivery.properties.intHeader("x-stream-offset") { next.withLock { $0 = offset + 1 } }
                unacked += 1
                // Streams need acks only for flow control: settle in bulk.
                if unacked >= 200 {
                    try await connection.ackAll(upTo: delivery)
                    unacked = 0
                }
            }
        }
    }

    private func take(_ delivery: Delivery) async {
        if delivery.properties.type == JournalMarker.type {
            do {
                await journal.markerSeen(try GeoRepBus.decode(JournalMarker.self, from: delivery).nonce)
            } catch {
                logger.warning("skipping an unreadable journal marker", metadata: ["error": "\(error)"])
                GeoRepMetrics.dropped(reason: "unreadable_journal_marker", role: "worker")
            }
            return
        }
        let event: Event
        do { event = try MessageCodec.decodeEvent(delivery.body).event } catch {
            // The journal is what keeps a redelivered command from running twice: an entry it
            // cannot read leaves only the command policy to do that for the entry's command.
            logger.error("skipping an unreadable journal entry", metadata: ["error": "\(error)", "type": "\(delivery.properties.type ?? "-")"])
            GeoRepMetrics.dropped(reason: "unreadable_journal_entry", role: "worker")
            return
        }
        switch event {
        case .commandResult(let result):
            await journal.record(result)
            if let id = result.commandId { await waits.answered(id) }
        case .commandWaiting(let wait):
            await waits.register(wait)
        case .scheduleSet, .windowOpened, .windowClosed:
            await windows.learn(event)
        case .checkpointCompleted:
            await windows.learn(event)
            await tracker.learn(event)
        default:
            await tracker.learn(event)
        }
    }
}

import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging
import Observability

/// The owner's side of sync windows: on each monitor round of a cluster, what
/// ``SyncWindowRule`` says for every scheduled session of it — start and checkpoint at a
/// window's start, stop when its checkpoint completed or the window ended — done through
/// gluster and then published, so that the journal tells every later owner it was done.
struct SyncWindowKeeper: Sendable {
    let gluster: GlusterExecutor
    let tracker: SessionTracker
    let windows: SyncWindows
    let sync: JournalSync
    /// The window's checkpoint has to complete on idle bricks too (``CheckpointTouch``).
    let touch: CheckpointTouch
    let logger: Logger

    /// One round over `cluster`'s schedules; returns the events published. `synced`: the
    /// journal was brought up to now in this round already.
    func round(cluster: String, synced: Bool, bus: GeoRepBus) async throws -> [Event] {
        let now = Date()
        var published: [Event] = []
        let due = await windows.due(cluster: cluster, now: now)
        if !due.isEmpty {
            // Before the journal forgets them: the sets stay known to workers that start later.
            let events = due.map(Event.scheduleSet)
            try await bus.publish(events)
            for event in events { await windows.learn(event) }
            published += events
        }
        // An open window whose checkpoint may wait on an idle brick: another touch (throttled).
        for (set, record) in await windows.scheduled(cluster: cluster) where record.openWindow != nil {
            await touch.touch(set.session)
        }
        guard try await anythingToDo(cluster: cluster, now: now) else { return published }
        // Once per window, across handovers and restarts: the journal, brought up to now, says
        // what an earlier owner did. Unsure: not now; the next round decides again.
        if !synced {
            guard await sync.catchUp(bus: bus, log: logger) else { return published }
        }
        for (set, record) in await windows.scheduled(cluster: cluster) {
            let (status, progress) = await tracker.checkpoint(of: set.sessionId)
            let decision = SyncWindowRule.decide(schedule: set.schedule, record: record, status: status, progress: progress, now: Date())
            guard let event = await act(decision, session: set.session, progress: progress) else { continue }
            try await bus.publish(event)
            await windows.learn(event)
            published.append(event)
        }
        return published
    }

    /// Whether any scheduled session of `cluster` has something to do, on what this worker knows.
    private func anythingToDo(cluster: String, now: Date) async throws -> Bool {
        for (set, record) in await windows.scheduled(cluster: cluster) {
            let (status, progress) = await tracker.checkpoint(of: set.sessionId)
            if SyncWindowRule.decide(schedule: set.schedule, record: record, status: status, progress: progress, now: now) != .none {
                return true
            }
        }
        return false
    }

    /// Does what `decision` says on gluster; returns the event to publish, or nil when there is
    /// nothing to say or gluster refused (logged; the next round tries again).
    private func act(_ decision: SyncWindowRule.Decision, session ref: SessionRef, progress: CheckpointProgress?) async -> Event? {
        var log = logger
        log[metadataKey: "session"] = "\(ref.key)"
        do throws(GlusterError) {
            switch decision {
            case .none:
                return nil
            case .open(let window, let start):
                if start {
                    do throws(GlusterError) {
                        try await gluster.perform(.lifecycle(.start, ref, force: false), cluster: ref.cluster, commandID: UUID())
                    } catch .alreadyStarted {
                        log.debug("already started at the window's opening")
                    }
                }
                // A worker killed after setting it, before publishing the opening, set it already.
                let current = try await gluster.configValue(ref, key: "checkpoint").flatMap(Double.init)
                var checkpoint = current.map(Date.init(timeIntervalSince1970:)) ?? Date()
                if SyncWindowRule.needsCheckpoint(glusterCheckpoint: current, window: window) {
                    checkpoint = Date()
                    try await gluster.perform(.checkpoint(ref, at: "now"), cluster: ref.cluster, commandID: UUID())
                    await touch.touch(ref, force: true, settle: 2)
                }
                log.info("sync window opened", metadata: ["window_start": "\(Timestamp.format(window.start))", "started": "\(start)"])
                return .windowOpened(SyncWindowOpened(session: ref, window: window, started: start, checkpointTime: checkpoint))
            case .complete(let window, let stop), .miss(let window, let stop):
                if stop {
                    do throws(GlusterError) {
                        try await gluster.perform(.lifecycle(.stop, ref, force: false), cluster: ref.cluster, commandID: UUID())
                    } catch .alreadyStopped {
                        log.debug("already stopped at the window's close")
                    }
                }
                let outcome: SyncWindowClosed.Outcome = if case .complete = decision { .completed } else { .missed }
                log.log(level: outcome == .completed ? Logger.Level.info : .warning, "sync window closed", metadata: [
                    "window_start": "\(Timestamp.format(window.start))", "outcome": "\(outcome.rawValue)",
                    "progress": "\(progress.map(CheckpointWait.describe) ?? "-")",
                ])
                return .windowClosed(SyncWindowClosed(session: ref, window: window, outcome: outcome, stopped: stop, progress: progress))
            }
        } catch {
            log.warning("could not act on the session's sync window; the next round tries again",
                        metadata: ["decision": "\(decision)", "error": "\(error)"])
            GeoRepMetrics.dropped(reason: "sync_window_action_failed", role: "worker")
            return nil
        }
    }
}

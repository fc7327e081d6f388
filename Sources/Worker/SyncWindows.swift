import Foundation
import GeoRepCore

/// The sessions' sync schedules and what was done in their windows, as every worker learns
/// them from the journal (``ScheduleSet``, ``SyncWindowOpened``, ``SyncWindowClosed`` and the
/// checkpoints announced completed). Whoever owns a cluster acts on its schedules when it
/// reads the cluster (``ClusterMonitor``, ``SyncWindowRule``).
actor SyncWindows {
    private var schedules: [UUID: ScheduleSet] = [:]
    /// Kept apart from the schedules: a window's records may come before a re-published schedule.
    /// Kept when a session is deleted: one made again under the same name within the same window
    /// must not open it a second time.
    private var records: [UUID: SyncWindowRule.Record] = [:]
    /// How long a schedule may go unpublished before the owner publishes it again: well inside
    /// the journal's 24 h, which would forget it otherwise.
    let republishAfter: TimeInterval

    init(republishAfter: TimeInterval = 12 * 3600) { self.republishAfter = republishAfter }

    /// What any worker published (read back from the journal, or just published by this one).
    func learn(_ event: Event) {
        switch event {
        case .scheduleSet(let e):
            // A re-publication carries the original `setAt`: the newest setting wins.
            if let held = schedules[e.sessionId], held.setAt > e.setAt { return }
            if e.schedule.isEmpty { schedules.removeValue(forKey: e.sessionId) } else { schedules[e.sessionId] = e }
        case .windowOpened(let e):
            if records[e.sessionId]?.opened.map({ $0.start >= e.window.start }) ?? false { return }
            records[e.sessionId, default: .init()].opened = e.window
        case .windowClosed(let e):
            if records[e.sessionId]?.closedStart.map({ $0 >= e.window.start }) ?? false { return }
            records[e.sessionId, default: .init()].closedStart = e.window.start
        case .checkpointCompleted(let e):
            let newer = records[e.sessionId]?.completedCheckpoint.map { $0 < e.checkpointTime } ?? true
            if newer { records[e.sessionId, default: .init()].completedCheckpoint = e.checkpointTime }
        default:
            return
        }
    }

    /// The scheduled sessions of `cluster` with what the journal says of their windows.
    func scheduled(cluster: String) -> [(set: ScheduleSet, record: SyncWindowRule.Record)] {
        schedules.values.filter { $0.session.cluster == cluster }.sorted { $0.session.key < $1.session.key }
            .map { ($0, records[$0.sessionId] ?? .init()) }
    }

    /// The schedule of a session, if it has one.
    func schedule(of session: UUID) -> ScheduleSet? { schedules[session] }

    /// The schedules of `cluster` due to be published again, as their new copies.
    func due(cluster: String, now: Date) -> [ScheduleSet] {
        schedules.values.filter { $0.session.cluster == cluster && now.timeIntervalSince($0.publishedAt) >= republishAfter }
            .map { ScheduleSet(session: $0.session, schedule: $0.schedule, commandId: $0.commandId, setAt: $0.setAt, publishedAt: now) }
    }

    /// The clusters with a window open or about to be (within `lead`): their owners tick them
    /// more often, so a window's end or completion is acted on within seconds.
    func busyClusters(now: Date, lead: TimeInterval) -> Set<String> {
        Set(schedules.values.filter { set in
            let record = records[set.sessionId]
            if record?.openWindow != nil { return true }
            // A window closed already (its checkpoint completed early) needs no ticks until the next one.
            if let current = set.schedule.window(containing: now), record?.closedStart != current.start { return true }
            return set.schedule.next(after: now).map { $0.start <= now + lead } == true
        }.map(\.session.cluster))
    }
}

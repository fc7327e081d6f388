import Foundation
import GeoRepCore

extension Representation {
    /// The session's sync schedule (single-session view): the next window after `now` (or the
    /// one open now), the daily window, how many explicit ones, and how the last one went.
    static func syncSchedule(_ schedule: SyncSchedule?, setAt: String?, last: SessionStore.Window?, now: Date = Date()) -> Document? {
        guard schedule != nil || last != nil else { return nil }
        var children: [Document?] = []
        if let schedule {
            let next = schedule.window(containing: now) ?? schedule.next(after: now)
            children += [
                next.map { window("next_window", start: Timestamp.format($0.start), end: Timestamp.format($0.end)) },
                schedule.daily.map { Document("daily", children: [.element("at", $0.at), .element("minutes", Int64($0.minutes))]) },
                .leaf("windows", Int64(schedule.windows.count)),
                .leaf("set_at", setAt),
            ]
        }
        if let last {
            var w = window("last_window", start: last.start, end: last.end)
            w.children += [
                .leaf("outcome", last.outcome ?? "OPEN"), .leaf("opened_at", last.openedAt), .leaf("closed_at", last.closedAt),
                .leaf("started", last.started), .leaf("stopped", last.stopped), .leaf("completed_bricks", last.completedBricks),
                .leaf("active_bricks", last.activeBricks), .leaf("oldest_last_synced", last.oldestLastSynced),
            ].compactMap { $0 }
            children.append(w)
        }
        return Document("sync_schedule", children: children.compactMap { $0 })
    }

    private static func window(_ name: String, start: String, end: String) -> Document {
        Document(name, children: [.element("start", start), .element("end", end)])
    }
}

import Foundation
import GeoRepCore
import Postgres

extension SessionStore {
    /// A row of `georep_session_schedules`: a session's sync schedule as the JSON of messages.
    struct Schedule: TableRow {
        static let select = "SELECT schedule::text AS schedule, set_at FROM georep_session_schedules"
        var json: String
        /// RFC 3339.
        var setAt: String

        init(_ row: PGRow) throws(PGError) {
            json = try row.required("schedule")
            setAt = PGRow.rfc3339(try row.required("set_at"))
        }
    }

    /// A row of `georep_session_windows`: one window of a session and how it went.
    struct Window: TableRow {
        static let select = """
            SELECT window_start, window_end, outcome, opened_at, closed_at, started, stopped, completed_bricks, active_bricks,
                   oldest_last_synced::text
            FROM georep_session_windows
            """
        /// RFC 3339.
        var start: String
        var end: String
        /// Nil while open; `COMPLETED` or `MISSED`.
        var outcome: String?
        var openedAt: String?
        var closedAt: String?
        var started: Bool?
        var stopped: Bool?
        var completedBricks: Int64?
        var activeBricks: Int64?
        /// gluster's clock, as the brick rows print it.
        var oldestLastSynced: String?

        init(_ row: PGRow) throws(PGError) {
            start = PGRow.rfc3339(try row.required("window_start"))
            end = PGRow.rfc3339(try row.required("window_end"))
            outcome = try row.text("outcome")
            openedAt = try row.text("opened_at").map(PGRow.rfc3339)
            closedAt = try row.text("closed_at").map(PGRow.rfc3339)
            started = try row.bool("started")
            stopped = try row.bool("stopped")
            completedBricks = try row.int64("completed_bricks")
            activeBricks = try row.int64("active_bricks")
            oldestLastSynced = try row.text("oldest_last_synced")
        }
    }

    /// The session's schedule, or nil when it has none (or it was cleared).
    func schedule(of session: UUID) async throws -> Schedule? {
        try await one(where: "session_id = $1 AND schedule <> '{\"windows\":[]}'::jsonb", [session.uuidString])
    }

    /// The session's latest window that was opened or closed.
    func lastWindow(of session: UUID) async throws -> Window? {
        try await one(where: "session_id = $1 ORDER BY window_start DESC LIMIT 1", [session.uuidString])
    }
}

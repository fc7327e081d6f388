import Foundation
import GeoRepCore
import Postgres

/// Writes sync schedules (``ScheduleSet``) into `georep_session_schedules` and what was done in
/// their windows (``SyncWindowOpened``, ``SyncWindowClosed``) into `georep_session_windows`,
/// inside the batch's transaction. Replays are harmless: a schedule row moves only to a newer
/// `set_at`, a window row is keyed by its start and a closed one stays closed.
struct WindowStore: Sendable {
    func apply(schedules: [ScheduleSet], opened: [SyncWindowOpened], closed: [SyncWindowClosed], _ db: PGSession) throws(PGError) {
        for set in schedules {
            try db.execute("""
                INSERT INTO georep_session_schedules (session_id, session_ref, schedule, command_id, set_at)
                VALUES ($1, $2, $3::jsonb, $4::uuid, $5::timestamptz)
                ON CONFLICT (session_id) DO UPDATE SET session_ref = EXCLUDED.session_ref, schedule = EXCLUDED.schedule,
                    command_id = EXCLUDED.command_id, set_at = EXCLUDED.set_at, recorded_at = now()
                WHERE EXCLUDED.set_at > georep_session_schedules.set_at
                """, [set.sessionId.uuidString, set.session.key, set.schedule.json, set.commandId?.uuidString, Timestamp.format(set.setAt)])
        }
        for e in opened {
            try db.execute("""
                INSERT INTO georep_session_windows (session_id, window_start, window_end, opened_at, started)
                VALUES ($1, $2::timestamptz, $3::timestamptz, $4::timestamptz, $5::boolean)
                ON CONFLICT (session_id, window_start) DO UPDATE SET opened_at = EXCLUDED.opened_at, started = EXCLUDED.started,
                    recorded_at = now()
                WHERE georep_session_windows.opened_at IS NULL
                """, [e.sessionId.uuidString, Timestamp.format(e.window.start), Timestamp.format(e.window.end), Timestamp.format(e.openedAt),
                      e.started ? "true" : "false"])
        }
        for e in closed {
            try db.execute("""
                INSERT INTO georep_session_windows (session_id, window_start, window_end, outcome, closed_at, stopped, completed_bricks,
                    active_bricks, oldest_last_synced)
                VALUES ($1, $2::timestamptz, $3::timestamptz, $4, $5::timestamptz, $6::boolean, $7::integer, $8::integer, $9::timestamp)
                ON CONFLICT (session_id, window_start) DO UPDATE SET outcome = EXCLUDED.outcome, closed_at = EXCLUDED.closed_at,
                    stopped = EXCLUDED.stopped, completed_bricks = EXCLUDED.completed_bricks, active_bricks = EXCLUDED.active_bricks,
                    oldest_last_synced = EXCLUDED.oldest_last_synced, recorded_at = now()
                WHERE georep_session_windows.outcome IS NULL
                """, [e.sessionId.uuidString, Timestamp.format(e.window.start), Timestamp.format(e.window.end), e.outcome.rawValue.uppercased(),
                      Timestamp.format(e.closedAt), e.stopped ? "true" : "false", e.progress.map { String($0.completedBricks) },
                      e.progress.map { String($0.activeBricks) }, CheckpointStore.glusterTime(e.progress?.oldestLastSynced)])
        }
    }
}

import Foundation
import GeoRepCore
import Postgres

/// Writes checkpoint announcements (``CheckpointCompleted``, ``CheckpointStalled``) into
/// `georep_session_checkpoints`, and pending waits (``CommandWaiting``) into their command's
/// row, inside the batch's transaction. Replays are harmless: a row only moves to a newer
/// checkpoint, or from STALLED to COMPLETED for the same one.
struct CheckpointStore: Sendable {
    struct Row: Sendable {
        var sessionId: UUID
        var checkpointTime: String
        var status: String
        var completedAt: String?
        var durationSeconds: Double?
        var stalledReason: String?
        var activeBricks: Int?
        var completedBricks: Int?
        var oldestLastSynced: String?
        var observation: Observation
    }

    func apply(completed: [CheckpointCompleted], stalled: [CheckpointStalled], waiting: [CommandWaiting], _ db: PGSession) throws(PGError) {
        let rows = completed.map {
            Row(sessionId: $0.sessionId, checkpointTime: $0.checkpointTime, status: "COMPLETED", completedAt: $0.completedAt,
                durationSeconds: $0.durationSeconds, activeBricks: $0.activeBricks, completedBricks: $0.activeBricks,
                observation: $0.observation)
        } + stalled.map {
            Row(sessionId: $0.sessionId, checkpointTime: $0.checkpointTime, status: "STALLED", stalledReason: $0.reason.rawValue,
                activeBricks: $0.progress.activeBricks, completedBricks: $0.progress.completedBricks,
                oldestLastSynced: $0.progress.oldestLastSynced, observation: $0.observation)
        }
        for row in rows {
            guard let checkpoint = Self.glusterTime(row.checkpointTime) else { continue }  // nothing to key it by
            try db.execute("""
                INSERT INTO georep_session_checkpoints (session_id, checkpoint_time, status, completed_at, duration_seconds,
                    stalled_reason, active_bricks, completed_bricks, oldest_last_synced, observed_seq, observed_at)
                VALUES ($1, $2::timestamp, $3, $4::timestamp, $5::double precision, $6, $7::integer, $8::integer, $9::timestamp,
                        $10::bigint, $11::timestamptz)
                ON CONFLICT (session_id) DO UPDATE SET
                    checkpoint_time = EXCLUDED.checkpoint_time, status = EXCLUDED.status, completed_at = EXCLUDED.completed_at,
                    duration_seconds = EXCLUDED.duration_seconds, stalled_reason = EXCLUDED.stalled_reason,
                    active_bricks = EXCLUDED.active_bricks, completed_bricks = EXCLUDED.completed_bricks,
                    oldest_last_synced = EXCLUDED.oldest_last_synced, observed_seq = EXCLUDED.observed_seq,
                    observed_at = EXCLUDED.observed_at, recorded_at = now()
                WHERE EXCLUDED.checkpoint_time > georep_session_checkpoints.checkpoint_time
                   OR (EXCLUDED.checkpoint_time = georep_session_checkpoints.checkpoint_time
                       AND georep_session_checkpoints.status <> 'COMPLETED' AND EXCLUDED.observed_seq > georep_session_checkpoints.observed_seq)
                """, [
                    row.sessionId.uuidString, checkpoint, row.status, Self.glusterTime(row.completedAt),
                    row.durationSeconds.map { String($0) }, row.stalledReason, row.activeBricks.map(String.init),
                    row.completedBricks.map(String.init), Self.glusterTime(row.oldestLastSynced), String(row.observation.seq),
                    Timestamp.format(row.observation.at),
                ])
        }
        for wait in waiting {
            // Still pending: its result (succeeded or failed) replaces the row when it comes.
            try db.execute("""
                INSERT INTO georep_commands (command_id, action, session_id, session_ref, outcome, message, accepted_at)
                VALUES ($1, $2, $3, $4, 'pending', $5, $6::timestamptz)
                ON CONFLICT (command_id) DO UPDATE SET message = EXCLUDED.message, recorded_at = now()
                WHERE georep_commands.outcome = 'pending'
                """, [
                    wait.commandId.uuidString, String(wait.action.prefix(32)), wait.sessionId.uuidString, wait.session.key,
                    "checkpoint \(wait.checkpointTime ?? "now") set; waiting for it to complete until \(Timestamp.format(wait.deadline))",
                    Timestamp.format(wait.since),
                ])
        }
    }

    /// A brick time for a `timestamp` column: an instant (``Timestamp``, UTC; PostgreSQL drops
    /// the zone of such a literal, as for the brick rows), or gluster's `YYYY-MM-DD HH:MM:SS` as
    /// workers before times were normalised sent it; nil for anything else (never handed to SQL
    /// unchecked).
    static func glusterTime(_ text: String?) -> String? {
        guard let text else { return nil }
        if let date = Timestamp.parse(text) { return Timestamp.format(date) }
        guard text.count == 19, Timestamp.parseUTCWallClock(text) != nil else { return nil }
        return text
    }
}

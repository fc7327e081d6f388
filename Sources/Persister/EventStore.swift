import Foundation
import GeoRepCore
import Postgres

/// Writes events into the oVirt-shaped tables. Every write is guarded by the observation
/// stamp, so replays and late events are harmless: applying the same event twice, or an
/// older one after a newer one, leaves the newest state in place.
public struct EventStore: Sendable {
    public init() {}

    /// Applies one event inside the caller's transaction.
    public func apply(_ event: Event, in db: PGSession) throws(PGError) {
        switch event {
        case .sessionSnapshot(let s): try applySnapshot(s, db)
        case .sessionStatusChanged(let e): try applyStatus(e, db)
        case .brickStatusChanged(let e): try applyBrickStatus(e, db)
        case .sessionDeleted(let e): try applyDeleted(e, db)
        case .commandResult(let r): try applyResult(r, db)
        }
    }

    private func applySnapshot(_ s: SessionSnapshot, _ db: PGSession) throws(PGError) {
        let id = s.sessionId.uuidString
        let seq = String(s.observation.seq)
        let tomb = try db.execute("SELECT observed_seq FROM georep_session_tombstones WHERE session_id = $1", [id])
        if let dead = tomb.rows.first?[0].flatMap({ Int64($0) }), dead >= s.observation.seq { return }

        let upsert = try db.execute("""
            INSERT INTO gluster_georep_session
                (session_id, master_volume_id, session_key, slave_host_uuid, slave_host_name, slave_volume_id,
                 slave_volume_name, status, cluster_id, master_volume_name, user_name, observed_seq, observed_at, _update_date)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now())
            ON CONFLICT (session_id) DO UPDATE SET
                master_volume_id = COALESCE(EXCLUDED.master_volume_id, gluster_georep_session.master_volume_id),
                session_key = EXCLUDED.session_key,
                slave_host_uuid = COALESCE(EXCLUDED.slave_host_uuid, gluster_georep_session.slave_host_uuid),
                slave_host_name = EXCLUDED.slave_host_name,
                slave_volume_id = COALESCE(EXCLUDED.slave_volume_id, gluster_georep_session.slave_volume_id),
                slave_volume_name = EXCLUDED.slave_volume_name,
                status = EXCLUDED.status,
                user_name = EXCLUDED.user_name,
                observed_seq = EXCLUDED.observed_seq,
                observed_at = EXCLUDED.observed_at,
                _update_date = now()
            WHERE gluster_georep_session.observed_seq < EXCLUDED.observed_seq
            """, [
                id, uuidOrNil(s.primaryVolumeId), s.sessionKey ?? s.session.key, uuidOrNil(s.secondaryHostUuid),
                s.session.secondaryHost, uuidOrNil(s.secondaryVolumeId), s.session.secondaryVolume, s.status.rawValue,
                s.session.cluster, s.session.primaryVolume, s.session.secondaryUser, seq, timestamp(s.observation.at),
            ])
        guard upsert.affectedRows == 1 else { return }  // an older snapshot: newer state stays

        try db.execute("DELETE FROM gluster_georep_session_details WHERE session_id = $1", [id])
        for brick in s.bricks {
            let brickID = brick.brickId ?? StableID.brick(volumeID: s.primaryVolumeId ?? s.session.key, host: brick.primaryNode, path: brick.primaryBrick)
            try db.execute("""
                INSERT INTO gluster_georep_session_details
                    (session_id, master_brick_id, slave_host_uuid, slave_host_name, status, checkpoint_status, crawl_status,
                     files_synced, files_pending, bytes_pending, deletes_pending, files_skipped,
                     last_synced_at, checkpoint_time, checkpoint_completed_time, is_checkpoint_completed,
                     data_op_pending, meta_op_pending, entry_op_pending, failures,
                     master_node, master_node_uuid, master_brick_dir, observed_seq, observed_at, _update_date)
                VALUES ($1, $2, NULL, $3, $4, $5, $6, NULL, $7, NULL, NULL, $8, $9, $10, $11, $12,
                        $7, $13, $14, $8, $15, $16, $17, $18, $19, now())
                ON CONFLICT (session_id, master_brick_id) DO NOTHING
                """, [
                    id, brickID.uuidString, brick.secondaryNode ?? brick.secondaryHost ?? s.session.secondaryHost,
                    brick.status.rawValue, brick.checkpointStatus, brick.crawlStatus.map { String($0.prefix(32)) },
                    brick.data.map(String.init), brick.failures.map(String.init),
                    glusterTime(brick.lastSynced), glusterTime(brick.checkpointTime), glusterTime(brick.checkpointCompletionTime),
                    brick.checkpointCompleted.map { $0 ? "true" : "false" },
                    brick.meta.map(String.init), brick.entry.map(String.init),
                    brick.primaryNode, uuidOrNil(brick.primaryNodeUuid), brick.primaryBrick, seq, timestamp(s.observation.at),
                ])
        }
        if let options = s.options {
            try db.execute("DELETE FROM gluster_georep_config WHERE session_id = $1", [id])
            for (key, value) in options.sorted(by: { $0.key < $1.key }) {
                try db.execute("""
                    INSERT INTO gluster_georep_config (session_id, config_key, config_value, _update_date)
                    VALUES ($1, $2, $3, now())
                    """, [id, String(key.prefix(64)), value])
            }
        }
    }

    private func applyStatus(_ e: SessionStatusChanged, _ db: PGSession) throws(PGError) {
        try history(session: e.sessionId, brickID: nil, brickName: nil, from: e.from, to: e.to, observation: e.observation, db)
        try db.execute("""
            UPDATE gluster_georep_session SET status = $2, observed_seq = $3, observed_at = $4, _update_date = now()
            WHERE session_id = $1 AND observed_seq < $3
            """, [e.sessionId.uuidString, e.to.rawValue, String(e.observation.seq), timestamp(e.observation.at)])
    }

    private func applyBrickStatus(_ e: BrickStatusChanged, _ db: PGSession) throws(PGError) {
        try history(session: e.sessionId, brickID: e.brickId, brickName: e.brick, from: e.from, to: e.to, observation: e.observation, db)
        guard let brickID = e.brickId else { return }
        try db.execute("""
            UPDATE gluster_georep_session_details SET status = $3, observed_seq = $4, observed_at = $5, _update_date = now()
            WHERE session_id = $1 AND master_brick_id = $2 AND observed_seq < $4
            """, [e.sessionId.uuidString, brickID.uuidString, e.to.rawValue, String(e.observation.seq), timestamp(e.observation.at)])
    }

    private func applyDeleted(_ e: SessionDeleted, _ db: PGSession) throws(PGError) {
        let id = e.sessionId.uuidString
        let seq = String(e.observation.seq)
        try db.execute("""
            INSERT INTO georep_session_tombstones (session_id, observed_seq) VALUES ($1, $2)
            ON CONFLICT (session_id) DO UPDATE SET observed_seq = GREATEST(georep_session_tombstones.observed_seq, EXCLUDED.observed_seq),
                deleted_at = now()
            """, [id, seq])
        // Details and options go with the session (ON DELETE CASCADE).
        try db.execute("DELETE FROM gluster_georep_session WHERE session_id = $1 AND observed_seq < $2", [id, seq])
    }

    private func applyResult(_ r: CommandResult, _ db: PGSession) throws(PGError) {
        guard let commandID = r.commandId else { return }
        try db.execute("""
            INSERT INTO georep_commands (command_id, action, session_id, session_ref, outcome, message, error_code, finished_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (command_id) DO NOTHING
            """, [
                commandID.uuidString, String(r.action.prefix(32)), r.sessionId?.uuidString, r.session?.key,
                r.outcome.rawValue, r.message, r.error?.code, timestamp(r.finishedAt),
            ])
    }

    private func history(session: UUID, brickID: UUID?, brickName: String?, from: GeoRepStatus?, to: GeoRepStatus,
                         observation: Observation, _ db: PGSession) throws(PGError) {
        let cause: String = observation.cause.commandId == nil ? "monitor" : "command"
        try db.execute("""
            INSERT INTO georep_status_history
                (session_id, master_brick_id, brick_name, from_status, to_status, observed_seq, observed_at, cause, cause_command_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT DO NOTHING
            """, [
                session.uuidString, brickID?.uuidString, brickName, from?.rawValue, to.rawValue, String(observation.seq),
                timestamp(observation.at), cause, observation.cause.commandId?.uuidString,
            ])
    }

    private func uuidOrNil(_ text: String?) -> String? { text.flatMap { UUID(uuidString: $0) }?.uuidString }

    private func timestamp(_ date: Date) -> String { Timestamp.format(date) }

    /// gluster's `YYYY-MM-DD HH:MM:SS` (host local time), or nil for anything else.
    private func glusterTime(_ text: String?) -> String? {
        guard let text, text.count == 19 else { return nil }
        let ok = text.enumerated().allSatisfy { i, c in
            switch i {
            case 4, 7: c == "-"
            case 10: c == " "
            case 13, 16: c == ":"
            default: c.isASCII && c.isNumber
            }
        }
        return ok ? text : nil
    }
}

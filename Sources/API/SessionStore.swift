import Foundation
import GeoRepCore
import Postgres

/// The API's reads, from the tables the persister writes. One row is a column → text map
/// (NULL columns are absent).
struct SessionStore: Sendable {
    typealias Row = [String: String]
    let pool: PGConnectionPool

    /// A volume as the API addresses it: by gluster's volume UUID or by name.
    struct Volume: Sendable {
        var id: String?
        var name: String
    }

    func clusterExists(_ cluster: String) async throws -> Bool {
        try await one("SELECT cluster_id FROM gluster_clusters WHERE cluster_id = $1", [cluster]) != nil
    }

    /// The volume `idOrName` of `cluster`: from the inventory, or from its sessions when the
    /// inventory has not been read yet.
    func volume(cluster: String, idOrName: String) async throws -> Volume? {
        if let row = try await one("""
            SELECT id::text AS id, vol_name FROM gluster_volumes
            WHERE cluster_id = $1 AND (vol_name = $2 OR id::text = lower($2))
            """, [cluster, idOrName]) {
            return Volume(id: row["id"], name: row["vol_name"] ?? idOrName)
        }
        if let row = try await one("""
            SELECT master_volume_id::text AS id, master_volume_name FROM gluster_georep_session
            WHERE cluster_id = $1 AND (master_volume_name = $2 OR master_volume_id::text = lower($2)) LIMIT 1
            """, [cluster, idOrName]) {
            return Volume(id: row["id"], name: row["master_volume_name"] ?? idOrName)
        }
        return nil
    }

    func sessions(cluster: String, volume: String) async throws -> [Row] {
        try await rows("""
            SELECT * FROM gluster_georep_session WHERE cluster_id = $1 AND master_volume_name = $2
            ORDER BY slave_host_name, slave_volume_name, user_name NULLS FIRST
            """, [cluster, volume])
    }

    func session(_ id: UUID, cluster: String, volume: String) async throws -> Row? {
        try await one("SELECT * FROM gluster_georep_session WHERE session_id = $1 AND cluster_id = $2 AND master_volume_name = $3",
                      [id.uuidString, cluster, volume])
    }

    /// A session by its id alone (a command's result names only the id).
    func session(_ id: UUID) async throws -> Row? {
        try await one("SELECT * FROM gluster_georep_session WHERE session_id = $1", [id.uuidString])
    }

    func details(of session: UUID) async throws -> [Row] {
        try await rows("SELECT * FROM gluster_georep_session_details WHERE session_id = $1 ORDER BY master_node, master_brick_dir",
                       [session.uuidString])
    }

    /// The session's last checkpoint outcome (``CheckpointCompleted`` / ``CheckpointStalled``), if any.
    func lastCheckpoint(of session: UUID) async throws -> Row? {
        try await one("""
            SELECT checkpoint_time::text, status, completed_at::text, duration_seconds::text, stalled_reason, active_bricks::text,
                   completed_bricks::text, oldest_last_synced::text, observed_at::text
            FROM georep_session_checkpoints WHERE session_id = $1
            """, [session.uuidString])
    }

    func options(of session: UUID) async throws -> [Row] {
        try await rows("SELECT config_key, config_value FROM gluster_georep_config WHERE session_id = $1 ORDER BY config_key",
                       [session.uuidString])
    }

    func command(_ id: UUID) async throws -> Row? {
        try await one("SELECT * FROM georep_commands WHERE command_id = $1", [id.uuidString])
    }

    private func rows(_ sql: String, _ parameters: [String?]) async throws -> [Row] {
        try await pool.run { (db) throws(PGError) -> [Row] in
            let result = try db.execute(sql, parameters)
            return result.rows.map { values in
                var row: Row = [:]
                for (column, value) in zip(result.columns, values) { row[column] = value }
                return row
            }
        }
    }

    private func one(_ sql: String, _ parameters: [String?]) async throws -> Row? {
        try await rows(sql, parameters).first
    }
}

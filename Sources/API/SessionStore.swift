import Foundation
import GeoRepCore
import Postgres

/// The API's reads, from the tables the persister writes (`Schemas/sql/`), as typed rows.
///
/// Each row type names its table's columns once, in the statement beside its initializer; the
/// rest of the API reads fields, never column names. A column the statement does not return
/// fails the read (``PGError/unreadable(column:reason:)``) instead of reading as NULL.
struct SessionStore: Sendable {
    let pool: PGConnectionPool

    /// A row type of one table: the statement that names its columns (`SELECT … FROM table`,
    /// nothing after) beside the initializer that reads them. ``rows(where:_:)`` takes both from
    /// the type, so a read cannot pair one type's statement with another's reader.
    protocol TableRow: Sendable {
        static var select: String { get }
        init(_ row: PGRow) throws(PGError)
    }

    /// A volume as the API addresses it: by gluster's volume UUID or by name.
    struct Volume: Sendable {
        var id: String?
        var name: String

        init(id: String?, name: String) {
            self.id = id
            self.name = name
        }

        /// The inventory's volume, or else the one its sessions name (the inventory may not have
        /// been read yet); both statements return `id` and `name`.
        static let fromInventory = """
            SELECT id::text AS id, vol_name AS name FROM gluster_volumes
            WHERE cluster_id = $1 AND (vol_name = $2 OR id::text = lower($2))
            """
        static let fromSessions = """
            SELECT master_volume_id::text AS id, master_volume_name AS name FROM gluster_georep_session
            WHERE cluster_id = $1 AND (master_volume_name = $2 OR master_volume_id::text = lower($2)) LIMIT 1
            """

        init(_ row: PGRow) throws(PGError) {
            self.init(id: try row.text("id"), name: try row.required("name"))
        }
    }

    /// A row of `georep_session_checkpoints`: a session's last checkpoint outcome.
    struct Checkpoint: TableRow {
        static let select = """
            SELECT checkpoint_time::text, status, completed_at::text, duration_seconds::text, stalled_reason, active_bricks,
                   completed_bricks, oldest_last_synced::text, observed_at
            FROM georep_session_checkpoints
            """
        /// `COMPLETED` or `STALLED`.
        var status: String
        /// The bricks' times, as PostgreSQL prints a `timestamp` (UTC, like the brick rows).
        var checkpointTime: String
        var completedAt: String?
        var durationSeconds: String?
        var stalledReason: String?
        var activeBricks: Int64?
        var completedBricks: Int64?
        var oldestLastSynced: String?
        /// RFC 3339.
        var observedAt: String

        init(_ row: PGRow) throws(PGError) {
            status = try row.required("status")
            checkpointTime = try row.required("checkpoint_time")
            completedAt = try row.text("completed_at")
            durationSeconds = try row.text("duration_seconds")
            stalledReason = try row.text("stalled_reason")
            activeBricks = try row.int64("active_bricks")
            completedBricks = try row.int64("completed_bricks")
            oldestLastSynced = try row.text("oldest_last_synced")
            observedAt = PGRow.rfc3339(try row.required("observed_at"))
        }
    }

    /// A row of `gluster_georep_session`: the design's `master_*` / `slave_*` columns under the
    /// names the code uses (primary / secondary).
    struct Session: TableRow {
        static let select = """
            SELECT session_id, cluster_id, master_volume_id, master_volume_name, session_key, slave_host_name,
                   slave_host_uuid, slave_volume_name, slave_volume_id, user_name, status, observed_at
            FROM gluster_georep_session
            """
        var id: UUID
        var cluster: String
        var primaryVolumeID: UUID?
        var primaryVolume: String
        var sessionKey: String
        var secondaryHost: String?
        var secondaryHostUUID: UUID?
        var secondaryVolume: String?
        var secondaryVolumeID: UUID?
        /// NULL for root (the design's default user).
        var secondaryUser: String?
        /// The stored ``GeoRepStatus`` raw value, as text: shown as stored even if this build does
        /// not know it (another deployment may be newer).
        var status: String?
        /// RFC 3339.
        var observedAt: String

        init(_ row: PGRow) throws(PGError) {
            guard let id = try row.uuid("session_id") else { throw .unreadable(column: "session_id", reason: "NULL") }
            self.id = id
            cluster = try row.required("cluster_id")
            primaryVolumeID = try row.uuid("master_volume_id")
            primaryVolume = try row.required("master_volume_name")
            sessionKey = try row.required("session_key")
            secondaryHost = try row.text("slave_host_name")
            secondaryHostUUID = try row.uuid("slave_host_uuid")
            secondaryVolume = try row.text("slave_volume_name")
            secondaryVolumeID = try row.uuid("slave_volume_id")
            secondaryUser = try row.text("user_name")
            status = try row.text("status")
            observedAt = PGRow.rfc3339(try row.required("observed_at"))
        }

        /// The stored status, when this build knows its word.
        var geoRepStatus: GeoRepStatus? { status.flatMap(GeoRepStatus.init(rawValue:)) }
    }

    /// A row of `gluster_georep_session_details`: one primary brick of a session.
    struct Detail: TableRow {
        static let select = """
            SELECT session_id, master_brick_id, master_node, master_node_uuid, master_brick_dir, slave_host_name, status,
                   checkpoint_status, crawl_status, files_synced, files_pending, files_skipped, bytes_pending, deletes_pending,
                   data_pending, meta_pending, entry_pending, failures, last_synced_at, checkpoint_time,
                   checkpoint_completed_time, is_checkpoint_completed
            FROM gluster_georep_session_details
            """
        var session: UUID
        var brick: UUID
        var primaryNode: String?
        var primaryNodeUUID: UUID?
        var primaryBrickDir: String?
        var secondaryNode: String
        var status: String?
        var checkpointStatus: String?
        var crawlStatus: String?
        var filesSynced: Int64?
        var filesPending: Int64?
        var filesSkipped: Int64?
        var bytesPending: Int64?
        var deletesPending: Int64?
        var dataPending: Int64?
        var metaPending: Int64?
        var entryPending: Int64?
        var failures: Int64?
        /// gluster's times (UTC, in `timestamp` columns), as PostgreSQL prints them.
        var lastSyncedAt: String?
        var checkpointTime: String?
        var checkpointCompletedTime: String?
        var checkpointCompleted: Bool?

        init(_ row: PGRow) throws(PGError) {
            guard let session = try row.uuid("session_id") else { throw .unreadable(column: "session_id", reason: "NULL") }
            guard let brick = try row.uuid("master_brick_id") else { throw .unreadable(column: "master_brick_id", reason: "NULL") }
            self.session = session
            self.brick = brick
            primaryNode = try row.text("master_node")
            primaryNodeUUID = try row.uuid("master_node_uuid")
            primaryBrickDir = try row.text("master_brick_dir")
            secondaryNode = try row.required("slave_host_name")
            status = try row.text("status")
            checkpointStatus = try row.text("checkpoint_status")
            crawlStatus = try row.text("crawl_status")
            filesSynced = try row.int64("files_synced")
            filesPending = try row.int64("files_pending")
            filesSkipped = try row.int64("files_skipped")
            bytesPending = try row.int64("bytes_pending")
            deletesPending = try row.int64("deletes_pending")
            dataPending = try row.int64("data_pending")
            metaPending = try row.int64("meta_pending")
            entryPending = try row.int64("entry_pending")
            failures = try row.int64("failures")
            lastSyncedAt = try row.text("last_synced_at")
            checkpointTime = try row.text("checkpoint_time")
            checkpointCompletedTime = try row.text("checkpoint_completed_time")
            checkpointCompleted = try row.bool("is_checkpoint_completed")
        }
    }

    /// A row of `gluster_georep_config`.
    struct Option: TableRow {
        static let select = "SELECT config_key, config_value FROM gluster_georep_config"
        var key: String
        var value: String?

        init(_ row: PGRow) throws(PGError) {
            key = try row.required("config_key")
            value = try row.text("config_value")
        }
    }

    /// A row of `georep_commands`: a command's outcome once a worker answered (NULL outcome
    /// columns before).
    struct CommandRecord: TableRow {
        static let select = """
            SELECT action, outcome, message, error_code, session_id, session_ref, accepted_at, finished_at FROM georep_commands
            """
        var action: String
        var outcome: String
        var message: String
        var errorCode: String?
        var session: UUID?
        var sessionRef: String?
        /// RFC 3339.
        var acceptedAt: String?
        var finishedAt: String?

        init(_ row: PGRow) throws(PGError) {
            action = try row.required("action")
            outcome = try row.required("outcome")
            message = try row.required("message")
            errorCode = try row.text("error_code")
            session = try row.uuid("session_id")
            sessionRef = try row.text("session_ref")
            acceptedAt = try row.rfc3339("accepted_at")
            finishedAt = try row.rfc3339("finished_at")
        }
    }

    func clusterExists(_ cluster: String) async throws -> Bool {
        try await pool.run { (db) throws(PGError) -> Bool in
            !(try db.execute("SELECT 1 FROM gluster_clusters WHERE cluster_id = $1", [cluster]).rows.isEmpty)
        }
    }

    /// The volume `idOrName` of `cluster`: from the inventory, or from its sessions when the
    /// inventory has not been read yet.
    func volume(cluster: String, idOrName: String) async throws -> Volume? {
        if let found = try await one(Volume.fromInventory, [cluster, idOrName], Volume.init) { return found }
        return try await one(Volume.fromSessions, [cluster, idOrName], Volume.init)
    }

    func sessions(cluster: String, volume: String) async throws -> [Session] {
        try await rows(where: """
            cluster_id = $1 AND master_volume_name = $2
            ORDER BY slave_host_name, slave_volume_name, user_name NULLS FIRST
            """, [cluster, volume])
    }

    func session(_ id: UUID, cluster: String, volume: String) async throws -> Session? {
        try await one(where: "session_id = $1 AND cluster_id = $2 AND master_volume_name = $3", [id.uuidString, cluster, volume])
    }

    /// A session by its id alone (a command's result names only the id).
    func session(_ id: UUID) async throws -> Session? {
        try await one(where: "session_id = $1", [id.uuidString])
    }

    func details(of session: UUID) async throws -> [Detail] {
        try await rows(where: "session_id = $1 ORDER BY master_node, master_brick_dir", [session.uuidString])
    }

    /// The session's last checkpoint outcome (``CheckpointCompleted`` / ``CheckpointStalled``), if any.
    func lastCheckpoint(of session: UUID) async throws -> Checkpoint? {
        try await one(where: "session_id = $1", [session.uuidString])
    }

    func options(of session: UUID) async throws -> [Option] {
        try await rows(where: "session_id = $1 ORDER BY config_key", [session.uuidString])
    }

    func command(_ id: UUID) async throws -> CommandRecord? {
        try await one(where: "command_id = $1", [id.uuidString])
    }

    /// The rows of `Row`'s table that `clause` picks: a WHERE condition, then any ORDER BY or LIMIT.
    func rows<Row: TableRow>(where clause: String, _ parameters: [String?]) async throws -> [Row] {
        try await rows("\(Row.select) WHERE \(clause)", parameters) { (row) throws(PGError) in try Row(row) }
    }

    /// The first of ``rows(where:_:)``, if any.
    func one<Row: TableRow>(where clause: String, _ parameters: [String?]) async throws -> Row? {
        let found: [Row] = try await rows(where: clause, parameters)
        return found.first
    }

    private func rows<Row: Sendable>(_ sql: String, _ parameters: [String?],
                                     _ read: @escaping @Sendable (PGRow) throws(PGError) -> Row) async throws -> [Row] {
        try await pool.run { (db) throws(PGError) -> [Row] in
            var rows: [Row] = []
            for row in try db.execute(sql, parameters).namedRows { rows.append(try read(row)) }
            return rows
        }
    }

    private func one<Row: Sendable>(_ sql: String, _ parameters: [String?],
                                    _ read: @escaping @Sendable (PGRow) throws(PGError) -> Row) async throws -> Row? {
        try await rows(sql, parameters, read).first
    }
}

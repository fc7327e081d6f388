import ArgumentParser
import Foundation
import GeoRepCore
import Logging
import Persister
import Postgres

/// `georep status`: the fleet from PostgreSQL, for operators — every session of every cluster,
/// its bricks by status, its last observation and last command, and each cluster's management
/// plane. `--watch` follows `LISTEN georep_changes` (the persister notifies after each batch).
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every geo-replication session of every cluster, from PostgreSQL.",
        discussion: """
            Colour on a terminal, plain text when piped (or with NO_COLOR set); --json for scripts.
            --watch redraws on each change the persister announces (LISTEN georep_changes).
            """)

    @OptionGroup var settings: Settings

    @Option(help: "Only this cluster.")
    var cluster: String?

    @Flag(help: "One JSON document instead of text.")
    var json = false

    @Flag(help: "Redraw on every change (LISTEN georep_changes) until interrupted.")
    var watch = false

    func validate() throws {
        if let cluster {
            do { try Validate.clusterID(cluster, field: "--cluster") } catch { throw ValidationError("\(error)") }
        }
    }

    func run() async throws {
        let settings = try self.settings.resolve()
        var logger = settings.logger("georep.status")
        logger.logLevel = .warning
        let database = PGConnection(url: try settings.postgres(), name: "status", logger: logger)
        let colour = !json && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        let clear = colour && watch
        let cluster = self.cluster
        if watch {
            try await database.run { (db) throws(PGError) in _ = try db.execute("LISTEN \(EventStore.notifyChannel)") }
        }
        repeat {
            let fleet = try await database.run { (db) throws(PGError) in try FleetQuery.read(db, cluster: cluster) }
            let text = json ? try fleet.json() : fleet.text(colour: colour)
            // Home and clear the screen before each redraw on a terminal; a pipe gets each view in turn.
            // Written at once (and so flushed) for a pipe that reads each view as it comes.
            FileHandle.standardOutput.write(Data(((clear ? "\u{1B}[H\u{1B}[2J" : "") + text + (watch && !clear ? "\n" : "")).utf8))
            guard watch else { break }
            // Wait for a change; a quiet minute redraws anyway (ages and availability move on).
            _ = try await database.run { (db) throws(PGError) in
                var note = try db.nextNotification(timeout: 60)
                // A burst of batches is one redraw.
                while note != nil { note = try db.nextNotification(timeout: 0.2) }
                return true
            }
        } while !Task.isCancelled
        await database.close()
    }
}

/// The rows behind ``FleetStatus``.
enum FleetQuery {
    static func read(_ db: PGSession, cluster: String?) throws(PGError) -> FleetStatus {
        let clusters = try db.execute(
            "SELECT cluster_id FROM gluster_clusters WHERE $1::text IS NULL OR cluster_id = $1 ORDER BY cluster_id", [cluster])
            .rows.compactMap { $0[0] }
        let sessions = try db.execute("""
            SELECT s.session_id::text AS id, s.cluster_id, s.master_volume_name, coalesce(s.user_name, 'root') AS user_name,
                   s.slave_host_name, s.slave_volume_name, s.status,
                   to_char(s.observed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS observed_at,
                   c.command_id::text AS command_id, c.action, c.outcome,
                   to_char(coalesce(c.finished_at, c.accepted_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS command_at
            FROM gluster_georep_session s
            LEFT JOIN LATERAL (
                SELECT command_id, action, outcome, finished_at, accepted_at FROM georep_commands
                WHERE session_id = s.session_id
                ORDER BY coalesce(finished_at, accepted_at, recorded_at) DESC NULLS LAST LIMIT 1
            ) c ON true
            WHERE $1::text IS NULL OR s.cluster_id = $1
            ORDER BY s.cluster_id, s.master_volume_name, s.slave_host_name, s.slave_volume_name
            """, [cluster])
        let bricks = try db.execute("""
            SELECT d.session_id::text, d.status, count(*)::text FROM gluster_georep_session_details d
            JOIN gluster_georep_session s USING (session_id)
            WHERE $1::text IS NULL OR s.cluster_id = $1
            GROUP BY 1, 2
            """, [cluster])
        var bricksBySession: [String: [String: Int]] = [:]
        for row in bricks.rows {
            guard let id = row[0], let count = row[2].flatMap({ Int($0) }) else { continue }
            bricksBySession[id, default: [:]][row[1] ?? "UNKNOWN"] = count
        }
        // Migration 0006 adds the table; a database without it shows "not reported".
        var availability: [String: FleetStatus.Availability] = [:]
        if try db.execute("SELECT to_regclass('georep_cluster_availability') IS NOT NULL").rows.first?[0] == "t" {
            let rows = try db.execute("""
                SELECT cluster_id, available::text, host, to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), cause
                FROM georep_cluster_availability WHERE $1::text IS NULL OR cluster_id = $1
                """, [cluster])
            for row in rows.rows {
                guard let id = row[0] else { continue }
                availability[id] = FleetStatus.Availability(available: row[1] == "true", host: row[2] ?? "", since: row[3] ?? "", cause: row[4] ?? "")
            }
        }
        // Migration 0008 adds the table; a database without it shows no checkpoints.
        var checkpoints: [String: FleetStatus.LastCheckpoint] = [:]
        if try db.execute("SELECT to_regclass('georep_session_checkpoints') IS NOT NULL").rows.first?[0] == "t" {
            let rows = try db.execute("""
                SELECT k.session_id::text, k.status, k.checkpoint_time::text, k.completed_at::text, k.stalled_reason
                FROM georep_session_checkpoints k JOIN gluster_georep_session s USING (session_id)
                WHERE $1::text IS NULL OR s.cluster_id = $1
                """, [cluster])
            for row in rows.rows {
                guard let id = row[0], let status = row[1], let time = row[2] else { continue }
                checkpoints[id] = FleetStatus.LastCheckpoint(status: status, checkpointTime: time, completedAt: row[3], stalledReason: row[4])
            }
        }
        // Migration 0009 adds the table; a database without it shows no windows.
        var windows: [String: FleetStatus.NextWindow] = [:]
        if try db.execute("SELECT to_regclass('georep_session_schedules') IS NOT NULL").rows.first?[0] == "t" {
            let rows = try db.execute("""
                SELECT k.session_id::text, k.schedule::text FROM georep_session_schedules k JOIN gluster_georep_session s USING (session_id)
                WHERE $1::text IS NULL OR s.cluster_id = $1
                """, [cluster])
            let now = Date()
            for row in rows.rows {
                guard let id = row[0], let text = row[1] else { continue }
                do {
                    let schedule = try MessageCodec.decoder().decode(SyncSchedule.self, from: Data(text.utf8))
                    windows[id] = FleetStatus.NextWindow(schedule, now: now)
                } catch {
                    // Said, not hidden: the persister wrote it from a message this version cannot read.
                    FileHandle.standardError.write(Data("georep status: the schedule of session \(id) is unreadable: \(error)\n".utf8))
                }
            }
        }
        var byCluster: [String: [FleetStatus.Session]] = [:]
        for i in sessions.rows.indices {
            func value(_ column: String) -> String? { sessions[i, column] }
            guard let id = value("id"), let clusterID = value("cluster_id") else { continue }
            let command = value("command_id").map {
                FleetStatus.LastCommand(commandId: $0, action: value("action") ?? "", outcome: value("outcome") ?? "", at: value("command_at"))
            }
            byCluster[clusterID, default: []].append(FleetStatus.Session(
                sessionId: id, primaryVolume: value("master_volume_name") ?? "",
                secondary: "\(value("user_name") ?? "root")@\(value("slave_host_name") ?? "?")::\(value("slave_volume_name") ?? "?")",
                status: value("status") ?? "UNKNOWN", bricks: bricksBySession[id] ?? [:], observedAt: value("observed_at"), lastCommand: command,
                lastCheckpoint: checkpoints[id], nextWindow: windows[id]))
        }
        // A session of a cluster the inventory has not listed yet still shows.
        let names = Set(clusters).union(byCluster.keys).union(availability.keys.filter { cluster == nil || $0 == cluster }).sorted()
        return FleetStatus(clusters: names.map { FleetStatus.Cluster(cluster: $0, availability: availability[$0], sessions: byCluster[$0] ?? []) })
    }
}

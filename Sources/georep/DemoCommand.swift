import AMQP
import ArgumentParser
import Foundation
import GeoRepCore
import Logging
import Postgres

/// Creates and starts a real session on the lab through the whole path, showing the events
/// and the PostgreSQL rows until the session is ACTIVE. Needs a worker and a persister running.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Create and start a geo-replication session on the lab; show events and PostgreSQL rows until it is ACTIVE.")

    @OptionGroup var settings: Settings
    @OptionGroup var session: SessionOptions
    @Option(help: "Seconds to wait for ACTIVE.") var timeout: Double = 240
    @Flag(help: "Do not delete an existing session first.") var keepExisting = false

    func run() async throws {
        let settings = try self.settings.resolve()
        let logger = settings.logger("georep.demo")
        let ref = try session.ref()
        let database = PGConnection(url: try settings.postgres(), name: "demo", logger: logger)
        let client = try await CommandClient.connect(url: try settings.amqp(), source: "georep/demo/\(ProcessIdentity.name)",
                                                     topology: settings.topology, watchEvents: true, logger: logger)
        let show: (Event) -> Void = { print("  event  \(Self.describe($0))") }

        if !keepExisting {
            step("removing any earlier demo session \(ref) (stop + delete)")
            let reset = try await client.run(Command(action: .delete, session: ref, options: CommandOptions(resetSyncTime: true, stopFirst: true),
                                                     sender: "georep-demo"), timeout: 120, onEvent: show)
            result(reset)
        }
        step("create \(ref) (push-pem, force)")
        let created = try await client.run(Command(action: .create, session: ref, options: CommandOptions(force: true), sender: "georep-demo"),
                                           timeout: 180, onEvent: show)
        result(created)
        guard created.outcome == .succeeded else { throw ExitCode(1) }

        step("start \(ref)")
        let started = try await client.run(Command(action: .start, session: ref, sender: "georep-demo"), timeout: 180, onEvent: show)
        result(started)
        guard started.outcome == .succeeded else { throw ExitCode(1) }

        step("waiting for the bricks to go from Initializing to Active (the worker's monitor reads gluster every few seconds)")
        let deadline = Date().addingTimeInterval(timeout)
        var lastRows = ""
        while Date() < deadline {
            if let next = await client.nextEvent(timeout: 2), case .success(let (_, event)) = next { show(event) }
            let rows = try await Self.rows(database, ref)
            if rows.text != lastRows {
                print(rows.text)
                lastRows = rows.text
            }
            if rows.active {
                step("session \(ref) is ACTIVE in PostgreSQL")
                await client.close()
                await database.close()
                return
            }
        }
        await client.close()
        await database.close()
        print("the session did not become ACTIVE within \(Int(timeout)) s")
        throw ExitCode(1)
    }

    private func step(_ text: String) { print("==> \(text)") }

    private func result(_ r: CommandResult) {
        print("  result \(r.outcome.rawValue): \(r.message)\(r.error.map { " [\($0.code)]" } ?? "")")
    }

    static func describe(_ event: Event) -> String {
        switch event {
        case .commandResult(let r): "\(event.routingKey) \(r.action): \(r.message)"
        case .sessionStatusChanged(let e): "\(event.routingKey) \(e.session.key): \(e.from?.rawValue ?? "-") -> \(e.to.rawValue)"
        case .brickStatusChanged(let e): "\(event.routingKey) \(e.brick): \(e.from?.rawValue ?? "-") -> \(e.to.rawValue)"
        case .sessionSnapshot(let s): "\(event.routingKey) \(s.session.key): \(s.status.rawValue), \(s.bricks.count) bricks, \(s.options.map { "\($0.count) options" } ?? "options not re-read")"
        case .sessionDeleted(let e): "\(event.routingKey) \(e.session.key)"
        case .clusterInventory(let e): "\(event.routingKey) \(e.cluster): \(e.volumes.count) volumes, \(e.sessionIds.map { "\($0.count) sessions" } ?? "sessions not known")"
        case .commandAccepted(let e): "\(event.routingKey) \(e.action) for \(e.session.key)"
        case .clusterAvailability(let e): "\(event.routingKey) \(e.cluster): \(e.cause)"
        case .checkpointCompleted(let e): "\(event.routingKey) \(e.session.key): \(e.checkpointTime) completed at \(e.completedAt ?? "-")"
        case .checkpointStalled(let e): "\(event.routingKey) \(e.session.key): \(e.checkpointTime) \(e.reason.rawValue)"
        case .commandWaiting(let e): "\(event.routingKey) \(e.action) for \(e.session.key) until \(Timestamp.format(e.deadline))"
        case .scheduleSet(let e): "\(event.routingKey) \(e.session.key): next window \(e.nextWindow.map { Timestamp.format($0.start) } ?? "none")"
        case .windowOpened(let e): "\(event.routingKey) \(e.session.key): \(Timestamp.format(e.window.start)) - \(Timestamp.format(e.window.end))"
        case .windowClosed(let e):
            "\(event.routingKey) \(e.session.key): \(Timestamp.format(e.window.start)), \(e.progress.map(CheckpointWait.describe) ?? "progress not known")"
        }
    }

    /// The session's rows as a small table, and whether it is ACTIVE with every brick replicating.
    static func rows(_ database: PGConnection, _ ref: SessionRef) async throws -> (text: String, active: Bool) {
        let id = ref.sessionID.uuidString
        return try await database.run { (db) throws(PGError) -> (text: String, active: Bool) in
            let session = try db.execute("""
                SELECT session_id, status, session_key, slave_host_name, slave_volume_name, master_volume_id
                FROM gluster_georep_session WHERE session_id = $1
                """, [id])
            let details = try db.execute("""
                SELECT master_node || ':' || master_brick_dir AS brick, status, crawl_status, checkpoint_status, files_pending, files_skipped
                FROM gluster_georep_session_details WHERE session_id = $1 ORDER BY master_brick_dir
                """, [id])
            guard !session.rows.isEmpty else { return ("  pg     gluster_georep_session: no row yet", false) }
            var lines = ["  pg     gluster_georep_session: session_id=\(session[0, "session_id"] ?? "") status=\(session[0, "status"] ?? "NULL") slave=\(session[0, "slave_host_name"] ?? "")::\(session[0, "slave_volume_name"] ?? "") master_volume_id=\(session[0, "master_volume_id"] ?? "NULL")"]
            for r in 0..<details.rows.count {
                lines.append("  pg     gluster_georep_session_details: \(details[r, "brick"] ?? "") status=\(details[r, "status"] ?? "NULL") crawl=\(details[r, "crawl_status"] ?? "NULL") checkpoint=\(details[r, "checkpoint_status"] ?? "NULL") files_pending=\(details[r, "files_pending"] ?? "NULL")")
            }
            let bricksOK = !details.rows.isEmpty && (0..<details.rows.count).allSatisfy { ["ACTIVE", "PASSIVE"].contains(details[$0, "status"] ?? "") }
            return (lines.joined(separator: "\n"), session[0, "status"] == "ACTIVE" && bricksOK)
        }
    }
}

import AMQP
import Foundation
import GeoRepCore
import Gluster
import Postgres
import Testing

/// The whole path against the real services: a command published to RabbitMQ, a worker
/// running the real gluster CLI on the lab, events back through RabbitMQ, the persister
/// writing PostgreSQL, and the rows checked there.
extension Integration {
@Suite(.serialized) struct EndToEndTests {
    @Test(.timeLimit(.minutes(10)))
    func createStartStopDeleteThroughTheWholePath() async throws {
        let env = try TestEnvironment.load()
        try await InProcessServices.with(env, prefix: "e") { services in try await drive(env, services) }
    }

    func drive(_ env: TestEnvironment, _ services: InProcessServices) async throws {
        let client = services.client
        let database = services.database
        let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: env.labHost, secondaryVolume: "svol2")
        var seen: [Event] = []
        let collect: (Event) -> Void = { seen.append($0) }

        // A clean slate: whatever an earlier run left.
        let reset = try await client.run(Command(action: .delete, session: ref, options: CommandOptions(resetSyncTime: true, stopFirst: true),
                                                 sender: "tests"), timeout: 120, onEvent: collect)
        #expect(reset.outcome == .succeeded, "\(reset.message)")
        #expect(try await eventually(30) { try await sessionRow(database, ref) == nil ? true : nil } == true)

        // create → the session exists in PostgreSQL, not started.
        let created = try await client.run(Command(action: .create, session: ref, options: CommandOptions(force: true), sender: "tests"),
                                           timeout: 180, onEvent: collect)
        #expect(created.outcome == .succeeded, "\(created.message)")
        let createdRow = try await eventually(30) { try await sessionRow(database, ref) }
        #expect(createdRow?["status"] == "NOTSTARTED")
        #expect(createdRow?["slave_volume_name"] == "svol2")
        #expect(createdRow?["slave_host_name"] == env.labHost)
        #expect(createdRow?["session_key"]?.contains("::svol2") == true)
        #expect(createdRow?["master_volume_id"] != nil)

        // start → the bricks go through Initializing to Active, seen by the monitor.
        let started = try await client.run(Command(action: .start, session: ref, sender: "tests"), timeout: 180, onEvent: collect)
        #expect(started.outcome == .succeeded, "\(started.message)")
        let active = try await eventually(240, every: 1) { () -> [[String: String]]? in
            while let next = await client.nextEvent(timeout: 0.05), case .success(let (_, event)) = next { collect(event) }
            guard try await sessionRow(database, ref)?["status"] == "ACTIVE" else { return nil }
            let bricks = try await brickRows(database, ref)
            return bricks.count == 2 && bricks.allSatisfy { ["ACTIVE", "PASSIVE"].contains($0["status"] ?? "") } ? bricks : nil
        }
        let bricks = try #require(active, "the session did not become ACTIVE with both bricks replicating")
        let volumeID = try #require(try await sessionRow(database, ref)?["master_volume_id"])
        #expect(Set(bricks.compactMap { $0["master_brick_id"] }) == Set(["b1", "b2"].map {
            StableID.brick(volumeID: volumeID, host: env.labHost, path: "/var/lib/georep/lab/bricks/\($0)").uuidString.lowercased()
        }))
        #expect(bricks.allSatisfy { $0["slave_host_name"] != nil })
        // Crawl status shows up a little after Active; the monitor's next snapshot carries it.
        let crawling = try await eventually(90, every: 1) { () -> Bool? in
            let rows = try await brickRows(database, ref)
            return rows.count == 2 && rows.allSatisfy { $0["crawl_status"] != nil } ? true : nil
        }
        #expect(crawling == true, "no crawl status was stored for the active bricks")
        // The rows may show ACTIVE before this worker's event arrives: another deployment watching
        // the lab (the demo's services, when the tests run after ops/demo.sh) writes the same rows.
        func changes() -> [SessionStatusChanged] {
            seen.compactMap { event -> SessionStatusChanged? in
                if case .sessionStatusChanged(let e) = event, e.sessionId == ref.sessionID { return e } else { return nil }
            }
        }
        let activeEvent = try await eventually(60, every: 0.5) { () -> Bool? in
            while let next = await client.nextEvent(timeout: 0.05), case .success(let (_, event)) = next { collect(event) }
            return changes().contains { $0.to == .active } ? true : nil
        }
        #expect(activeEvent == true, "no session.status_changed to ACTIVE was published: \(changes())")
        #expect(try await optionCount(database, ref) > 10, "the config options were not stored")

        // stop → STOPPED.
        let stopped = try await client.run(Command(action: .stop, session: ref, sender: "tests"), timeout: 180, onEvent: collect)
        #expect(stopped.outcome == .succeeded, "\(stopped.message)")
        #expect(try await eventually(30) { try await sessionRow(database, ref)?["status"] == "STOPPED" ? true : nil } == true)

        // Bad input on the same path: typed results, no crash, and the worker keeps going.
        try await client.sendRaw(Array(#"{"specversion":"1.0","id":"1","source":"t","type":"georep.command.frobnicate","data":{"command_id":"6f1c1a2e-3b7d-4c1e-9a40-6a6f2f0e4e01","action":"frobnicate","session":{"cluster":"lab","primary_volume":"mvol","secondary_host":"vm","secondary_volume":"svol2"}}}"#.utf8),
                                 routingKey: ref.key)
        let rejected = try await client.waitForResult(of: UUID(uuidString: "6f1c1a2e-3b7d-4c1e-9a40-6a6f2f0e4e01")!, timeout: 60)
        #expect(rejected.outcome == .rejected)
        #expect(rejected.error?.code == "unknown_action")

        let missing = SessionRef(cluster: "lab", primaryVolume: "nosuchvol", secondaryHost: env.labHost, secondaryVolume: "svol2")
        let failed = try await client.run(Command(action: .start, session: missing, sender: "tests"), timeout: 120)
        #expect(failed.outcome == .rejected)
        #expect(["volume_not_found", "session_not_found"].contains(failed.error?.code ?? ""), "\(failed.message)")

        // delete → the rows are gone; the command results were recorded.
        let deleted = try await client.run(Command(action: .delete, session: ref, sender: "tests"), timeout: 120, onEvent: collect)
        #expect(deleted.outcome == .succeeded, "\(deleted.message)")
        #expect(try await eventually(30) { try await sessionRow(database, ref) == nil ? true : nil } == true)
        let recorded = try await database.run { (db) throws(PGError) in
            try db.execute("SELECT outcome FROM georep_commands WHERE command_id = $1", [started.commandId!.uuidString]).rows.first?[0]
        }
        #expect(recorded == "succeeded")
    }
}
}

func sessionRow(_ db: PGConnection, _ ref: SessionRef) async throws -> [String: String]? {
    let id = ref.sessionID.uuidString
    return try await db.run { (db) throws(PGError) -> [String: String]? in
        let r = try db.execute("SELECT * FROM gluster_georep_session WHERE session_id = $1", [id])
        guard let row = r.rows.first else { return nil }
        return Dictionary(uniqueKeysWithValues: zip(r.columns, row)).compactMapValues { $0 }
    }
}

/// One option of a session as PostgreSQL has it (`gluster_georep_config`).
func optionValue(_ db: PGConnection, _ ref: SessionRef, _ key: String) async throws -> String? {
    try await db.run { (db) throws(PGError) -> String? in
        try db.execute("SELECT config_value FROM gluster_georep_config WHERE session_id = $1 AND config_key = $2",
                       [ref.sessionID.uuidString, key]).rows.first?[0] ?? nil
    }
}

/// The session's status in PostgreSQL ("none" without a row) once it is one of `wanted`, or nil
/// when `seconds` pass first.
func sessionStatus(_ db: PGConnection, _ ref: SessionRef, in wanted: Set<String>, seconds: Double) async throws -> String? {
    try await eventually(seconds, every: 1) { () -> String? in
        let status = try await sessionRow(db, ref)?["status"] ?? "none"
        return wanted.contains(status) ? status : nil
    }
}

/// gluster volume `volume` stopped and started again (through `prefix`, a lab host's: ops/
/// gluster-pools.sh exec HOST): new brick processes. A volume with no session running may be.
func restartVolume(_ volume: String, through prefix: [String] = []) throws {
    for verb in [["stop", volume, "force"], ["start", volume]] {
        let run = runCommandCapturing(prefix + ["gluster", "--mode=script", "volume"] + verb)
        try #require(run.status == 0, "gluster volume \(verb.joined(separator: " ")): \(run.output)")
    }
}

func brickRows(_ db: PGConnection, _ ref: SessionRef) async throws -> [[String: String]] {
    let id = ref.sessionID.uuidString
    return try await db.run { (db) throws(PGError) -> [[String: String]] in
        let r = try db.execute("SELECT * FROM gluster_georep_session_details WHERE session_id = $1", [id])
        return r.rows.map { Dictionary(uniqueKeysWithValues: zip(r.columns, $0)).compactMapValues { $0 } }
    }
}

func optionCount(_ db: PGConnection, _ ref: SessionRef) async throws -> Int {
    let id = ref.sessionID.uuidString
    return try await db.run { (db) throws(PGError) -> Int in
        Int(try db.execute("SELECT count(*) FROM gluster_georep_config WHERE session_id = $1", [id]).rows.first?[0] ?? "0") ?? 0
    }
}

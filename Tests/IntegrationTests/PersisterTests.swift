import AMQP
import Foundation
import GeoRepCore
import Logging
import Persister
import Postgres
import Testing

extension Integration {
/// The persister and its schema against the real PostgreSQL (and RabbitMQ, on a topology of the
/// tests' own), with synthetic sessions in a cluster of their own that is removed afterwards.
@Suite(.serialized) struct PersisterTests {
    let env: TestEnvironment
    let logger = TestEnvironment.logger
    let database: PGConnection
    let cluster = "ptest-\(UUID().uuidString.prefix(8).lowercased())"

    init() async throws {
        env = try TestEnvironment.load()
        database = PGConnection(url: env.postgresURL, name: "persister tests", logger: TestEnvironment.logger)
        _ = try await Migrator(directory: TestEnvironment.schemasDirectory, logger: logger).migrate(database)
    }

    func ref(_ n: Int) -> SessionRef {
        SessionRef(cluster: cluster, primaryVolume: "vol\(n)", secondaryHost: "backup.example", secondaryVolume: "svol")
    }

    func snapshot(_ ref: SessionRef, seq: Int64, status: GeoRepStatus, options: [String: String]? = ["sync_jobs": "3"],
                  volumeID: String = "11111111-2222-4333-8444-555555555555") -> Event {
        let bricks = ["/b1", "/b2"].map { path in
            BrickDetail(brickId: StableID.brick(volumeID: volumeID, host: "node1", path: path), primaryNode: "node1",
                        primaryNodeUuid: "7be8d38a-8d56-484f-bc15-48d6c08a17f2", primaryBrick: path, status: status,
                        rawStatus: status.rawValue, crawlStatus: "Changelog Crawl", entry: 1, data: 2, meta: 3, failures: 0,
                        checkpointCompleted: true, lastSynced: Timestamp.parse("2026-11-23T03:58:02Z"))
        }
        return .sessionSnapshot(SessionSnapshot(
            session: ref, sessionKey: "7be8d38a-8d56-484f-bc15-48d6c08a17f2:ssh://backup.example::svol:\(UUID().uuidString)",
            primaryVolumeId: volumeID, secondaryVolumeId: UUID().uuidString, status: status, bricks: bricks, options: options,
            observation: Observation(seq: seq, at: Date(), cause: .monitor)))
    }

    func statusChange(_ ref: SessionRef, seq: Int64, to: GeoRepStatus) -> Event {
        .sessionStatusChanged(SessionStatusChanged(session: ref, from: nil, to: to, observation: Observation(seq: seq, at: Date(), cause: .monitor)))
    }

    func apply(_ events: [Event], in other: PGConnection? = nil) async throws {
        try await (other ?? database).run { (db) throws(PGError) in
            try db.transaction { () throws(PGError) in _ = try EventStore().apply(batch: events, in: db) }
        }
    }

    /// One value; a read that meets a restarting PostgreSQL is asked again on a new connection.
    func scalar(_ sql: String, _ params: [String?] = [], in other: PGConnection? = nil) async throws -> String? {
        let database = other ?? database
        var attempt = 0
        while true {
            do {
                return try await database.run { (db) throws(PGError) in try db.execute(sql, params).rows.first?[0] ?? nil }
            } catch {
                guard error.isConnectionLoss && attempt < 20 else { throw error }
                attempt += 1
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    func cleanup() async throws {
        try await database.run { [cluster] (db) throws(PGError) in
            try db.execute("DELETE FROM georep_status_history WHERE session_id IN (SELECT session_id FROM gluster_georep_session WHERE cluster_id = $1)", [cluster])
            try db.execute("DELETE FROM gluster_georep_session WHERE cluster_id = $1", [cluster])
            try db.execute("DELETE FROM gluster_volumes WHERE cluster_id = $1", [cluster])
            try db.execute("DELETE FROM gluster_server WHERE cluster_id = $1", [cluster])
            try db.execute("DELETE FROM gluster_clusters WHERE cluster_id = $1", [cluster])
        }
    }

    @Test func theNewestObservationWinsAndDeletionsStick() async throws {
        let r = ref(1)
        let id = r.sessionID.uuidString
        try await apply([snapshot(r, seq: 10, status: .active)])
        #expect(try await scalar("SELECT status FROM gluster_georep_session WHERE session_id = $1", [id]) == "ACTIVE")
        #expect(try await scalar("SELECT count(*) FROM gluster_georep_session_details WHERE session_id = $1", [id]) == "2")
        #expect(try await scalar("SELECT config_value FROM gluster_georep_config WHERE session_id = $1 AND config_key = 'sync_jobs'", [id]) == "3")
        // gluster's UTC time, stored as the UTC wall clock it always was in the `timestamp` column.
        #expect(try await scalar("SELECT DISTINCT last_synced_at::text FROM gluster_georep_session_details WHERE session_id = $1", [id])
                == "2026-11-23 03:58:02")
        // The inventory the snapshot implies, with the stable brick ids.
        #expect(try await scalar("SELECT count(*) FROM gluster_volume_bricks b JOIN gluster_georep_session_details d ON d.master_brick_id = b.id WHERE d.session_id = $1", [id]) == "2")
        #expect(try await scalar("SELECT vol_name FROM gluster_volumes v JOIN gluster_georep_session s ON s.master_volume_id = v.id WHERE s.session_id = $1", [id]) == "vol1")

        try await apply([snapshot(r, seq: 5, status: .stopped)])  // late: ignored
        #expect(try await scalar("SELECT status FROM gluster_georep_session WHERE session_id = $1", [id]) == "ACTIVE")
        try await apply([statusChange(r, seq: 20, to: .faulty), statusChange(r, seq: 15, to: .passive)])
        #expect(try await scalar("SELECT status FROM gluster_georep_session WHERE session_id = $1", [id]) == "FAULTY")
        try await apply([statusChange(r, seq: 20, to: .faulty)])  // a replay: recorded once
        #expect(try await scalar("SELECT count(*) FROM georep_status_history WHERE session_id = $1", [id]) == "2")

        try await apply([.sessionDeleted(SessionDeleted(session: r, observation: Observation(seq: 30, at: Date(), cause: .monitor)))])
        #expect(try await scalar("SELECT count(*) FROM gluster_georep_session WHERE session_id = $1", [id]) == "0")
        #expect(try await scalar("SELECT count(*) FROM gluster_georep_session_details WHERE session_id = $1", [id]) == "0")
        #expect(try await scalar("SELECT count(*) FROM gluster_georep_config WHERE session_id = $1", [id]) == "0")
        try await apply([snapshot(r, seq: 25, status: .active)])  // older than the deletion: stays deleted
        #expect(try await scalar("SELECT count(*) FROM gluster_georep_session WHERE session_id = $1", [id]) == "0")
        try await apply([snapshot(r, seq: 40, status: .notStarted)])  // created again later
        #expect(try await scalar("SELECT status FROM gluster_georep_session WHERE session_id = $1", [id]) == "NOTSTARTED")
        try await cleanup()
    }

    /// Details and options are rewritten in place (issue 19): a newer snapshot's bricks and options
    /// are exactly what remains, an older one changes nothing, and several in one batch end as the newest.
    @Test func aNewerSnapshotLeavesExactlyItsBricksAndOptions() async throws {
        let r = ref(5)
        let id = r.sessionID.uuidString
        try await apply([snapshot(r, seq: 10, status: .active, options: ["sync_jobs": "3", "log_level": "INFO"])])
        #expect(try await scalar("SELECT count(*) FROM gluster_georep_session_details WHERE session_id = $1", [id]) == "2")
        #expect(try await scalar("SELECT count(*) FROM gluster_georep_config WHERE session_id = $1", [id]) == "2")
        guard case .sessionSnapshot(var fewer) = snapshot(r, seq: 20, status: .faulty, options: ["sync_jobs": "4"]) else { return }
        fewer.bricks.removeLast()
        // In one batch with an older snapshot of the same session and a newer status change.
        try await apply([snapshot(r, seq: 15, status: .passive), .sessionSnapshot(fewer), statusChange(r, seq: 20, to: .stopped)])
        #expect(try await scalar("SELECT count(*) FROM gluster_georep_session_details WHERE session_id = $1", [id]) == "1")
        #expect(try await scalar("SELECT status FROM gluster_georep_session_details WHERE session_id = $1", [id]) == "FAULTY")
        #expect(try await scalar("SELECT string_agg(config_key || '=' || config_value, ',') FROM gluster_georep_config WHERE session_id = $1", [id]) == "sync_jobs=4")
        #expect(try await scalar("SELECT status FROM gluster_georep_session WHERE session_id = $1", [id]) == "FAULTY", "a change no newer than the snapshot")
        try await apply([snapshot(r, seq: 12, status: .active, options: ["sync_jobs": "3", "log_level": "INFO"])])  // late
        #expect(try await scalar("SELECT count(*) FROM gluster_georep_session_details WHERE session_id = $1", [id]) == "1")
        #expect(try await scalar("SELECT count(*) FROM gluster_georep_config WHERE session_id = $1", [id]) == "1")
        try await apply([statusChange(r, seq: 21, to: .stopped)])
        #expect(try await scalar("SELECT status FROM gluster_georep_session WHERE session_id = $1", [id]) == "STOPPED")
        try await cleanup()
    }

    /// Arrays sent in binary read as the same arrays spelt as text (the persister's parameters).
    @Test func binaryArraysReadAsTheirTextSpellings() async throws {
        let ids = [UUID(), nil, UUID(uuidString: "FA8A1487-0000-4000-8000-0000000000AB")!]
        let dates = [Date(timeIntervalSince1970: 1_795_406_282.1234), nil, Date(timeIntervalSince1970: 946_684_799.9996), Date(timeIntervalSince1970: 0)]
        let texts = ["a", nil, "ünïcode ✓ \"quoted\" back\\slash", "", "NULL"]
        let numbers: [Int64?] = [0, -1, nil, Int64.max, Int64.min]
        var u = PGBinaryArray(.uuid), t = PGBinaryArray(.timestamptz), w = PGBinaryArray(.timestamp), x = PGBinaryArray(.text)
        var v = PGBinaryArray(.varchar), n = PGBinaryArray(.int8), b = PGBinaryArray(.bool)
        ids.forEach { u.append(uuid: $0) }
        dates.forEach { t.append(date: $0); w.append(date: $0) }
        texts.forEach { x.append(text: $0); v.append(text: $0) }
        numbers.forEach { n.append($0) }
        [true, nil, false].forEach { b.append($0) }
        let cases: [(PGBinaryArray, String, String)] = [
            (u, "uuid", PGArray.literal(ids.map { $0?.lowercasedString })),
            (t, "timestamptz", PGArray.literal(dates.map { $0.map(Timestamp.format) })),
            (w, "timestamp", PGArray.literal(dates.map { $0.map(Timestamp.format) })),
            (x, "text", PGArray.literal(texts)), (v, "varchar", PGArray.literal(texts)),
            (n, "bigint", PGArray.literal(numbers.map { $0.map(String.init) })), (b, "boolean", "{true,NULL,false}"),
            (PGBinaryArray(.uuid), "uuid", "{}"),
        ]
        for (binary, type, text) in cases {
            let same = try await database.run { (db) throws(PGError) -> String? in
                try db.execute("SELECT ($1::\(type)[] IS NOT DISTINCT FROM $2::\(type)[])::text || ' ' || $1::\(type)[]::text",
                               binding: [.binary(binary.encoded), .text(text)]).rows.first?[0] ?? nil
            }
            #expect(same?.hasPrefix("true") == true, "\(type): \(same ?? "nil") against \(text)")
        }
    }

    /// The bricks' digest follows the rows: a brick dropped and listed again comes back, and a
    /// snapshot listing the bricks already stored leaves their rows (and only theirs).
    @Test func bricksDroppedAndListedAgainComeBack() async throws {
        let r = ref(8)
        let id = r.sessionID.lowercasedString
        func bricks() async throws -> String? {
            try await scalar("SELECT string_agg(master_brick_dir || '=' || status, ',' ORDER BY master_brick_dir) FROM gluster_georep_session_details WHERE session_id = $1", [id])
        }
        try await apply([snapshot(r, seq: 10, status: .active)])
        let both = try await scalar("SELECT bricks_digest FROM gluster_georep_session WHERE session_id = $1", [id])
        guard case .sessionSnapshot(var one) = snapshot(r, seq: 20, status: .passive) else { return }
        one.bricks.removeLast()
        try await apply([.sessionSnapshot(one)])
        #expect(try await bricks() == "/b1=PASSIVE")
        #expect(try await scalar("SELECT bricks_digest FROM gluster_georep_session WHERE session_id = $1", [id]) != both)
        try await apply([snapshot(r, seq: 30, status: .faulty)])
        #expect(try await bricks() == "/b1=FAULTY,/b2=FAULTY")
        #expect(try await scalar("SELECT bricks_digest FROM gluster_georep_session WHERE session_id = $1", [id]) == both)
        try await apply([snapshot(r, seq: 40, status: .active)])
        #expect(try await bricks() == "/b1=ACTIVE,/b2=ACTIVE")
        try await cleanup()
    }

    /// Options go by the stamp of the snapshot that read them, not by the session row's: a
    /// newer snapshot without options (a monitor round of another worker) must not keep out an
    /// older one that carries the options a `config reset` just changed. (CI, 2026-12-01:
    /// `sync_jobs` stayed 5 after its reset.)
    @Test func optionsGoByTheStampOfTheSnapshotThatReadThem() async throws {
        let r = ref(6)
        let id = r.sessionID.uuidString
        func options() async throws -> String? {
            try await scalar("SELECT string_agg(config_key || '=' || config_value, ',' ORDER BY config_key) FROM gluster_georep_config WHERE session_id = $1", [id])
        }
        try await apply([snapshot(r, seq: 10, status: .active, options: ["sync_jobs": "5", "log_level": "INFO"])])
        try await apply([snapshot(r, seq: 20, status: .active, options: nil)])
        try await apply([snapshot(r, seq: 15, status: .passive, options: ["sync_jobs": "3"])])  // older row, newer options
        #expect(try await options() == "sync_jobs=3")
        #expect(try await scalar("SELECT status FROM gluster_georep_session WHERE session_id = $1", [id]) == "ACTIVE", "the row is the newer one's")
        try await apply([snapshot(r, seq: 12, status: .active, options: ["sync_jobs": "9"])])  // options older than those stored
        #expect(try await options() == "sync_jobs=3")
        // The same in one batch: the newest snapshot has no options, an older one has.
        try await apply([snapshot(r, seq: 30, status: .active, options: nil), snapshot(r, seq: 25, status: .active, options: ["sync_jobs": "4"]),
                         snapshot(r, seq: 22, status: .active, options: ["sync_jobs": "8"])])
        #expect(try await options() == "sync_jobs=4")
        #expect(try await scalar("SELECT options_observed_seq FROM gluster_georep_session WHERE session_id = $1", [id]) == "25")
        // Options read before the session was deleted do not come back with it when it is made again.
        try await apply([.sessionDeleted(SessionDeleted(session: r, observation: Observation(seq: 40, at: Date(), cause: .monitor)))])
        try await apply([snapshot(r, seq: 50, status: .notStarted, options: nil), snapshot(r, seq: 35, status: .active, options: ["sync_jobs": "7"])])
        #expect(try await options() == nil)
        #expect(try await scalar("SELECT status FROM gluster_georep_session WHERE session_id = $1", [id]) == "NOTSTARTED")
        try await cleanup()
    }

    /// Options already stored are not written again (their rows keep their update time); a
    /// changed value, a new key and a key gone are, and the digest follows what is stored.
    @Test func optionsAlreadyStoredAreNotWrittenAgain() async throws {
        let r = ref(7)
        let id = r.sessionID.lowercasedString
        func options() async throws -> String? {
            try await scalar("SELECT string_agg(config_key || '=' || config_value, ',' ORDER BY config_key) FROM gluster_georep_config WHERE session_id = $1", [id])
        }
        func written() async throws -> String? {
            try await scalar("SELECT max(_update_date)::text FROM gluster_georep_config WHERE session_id = $1", [id])
        }
        try await apply([snapshot(r, seq: 10, status: .active, options: ["sync_jobs": "3", "log_level": "INFO"])])
        let first = try await written()
        let digest = try await scalar("SELECT options_digest FROM gluster_georep_session WHERE session_id = $1", [id])
        #expect(digest != nil)
        try await apply([snapshot(r, seq: 20, status: .passive, options: ["log_level": "INFO", "sync_jobs": "3"])])
        #expect(try await written() == first, "the same options, not written again")
        #expect(try await scalar("SELECT options_observed_seq FROM gluster_georep_session WHERE session_id = $1", [id]) == "20")
        #expect(try await scalar("SELECT options_digest FROM gluster_georep_session WHERE session_id = $1", [id]) == digest)
        try await apply([snapshot(r, seq: 30, status: .active, options: ["sync_jobs": "5", "use_meta_volume": "true"])])
        #expect(try await options() == "sync_jobs=5,use_meta_volume=true")
        #expect(try await scalar("SELECT options_digest FROM gluster_georep_session WHERE session_id = $1", [id]) != digest)
        // Back to the first options: written again, and the digest is the first one's.
        try await apply([snapshot(r, seq: 40, status: .active, options: ["sync_jobs": "3", "log_level": "INFO"])])
        #expect(try await options() == "log_level=INFO,sync_jobs=3")
        #expect(try await scalar("SELECT options_digest FROM gluster_georep_session WHERE session_id = $1", [id]) == digest)
        try await cleanup()
    }

    @Test func anInventoryKeepsVolumesAndBricksAndDropsSessionsThatVanishedUnwatched() async throws {
        let (gone, stays, later) = (ref(11), ref(12), ref(13))
        try await apply([snapshot(gone, seq: 10, status: .active), snapshot(stays, seq: 10, status: .active)])
        let volumeID = "22222222-3333-4444-8555-666666666666"
        let brick = ClusterInventory.Brick(id: StableID.brick(volumeID: volumeID, host: "node1", path: "/data/b1"), host: "node1",
                                           path: "/data/b1", hostUuid: "7be8d38a-8d56-484f-bc15-48d6c08a17f2")
        func inventory(seq: Int64, sessions: [UUID]?) -> Event {
            .clusterInventory(ClusterInventory(cluster: cluster, volumes: [
                ClusterInventory.Volume(id: volumeID, name: "fresh", status: "Started", bricks: [brick]),
            ], sessionIds: sessions, observation: Observation(seq: seq, at: Date(), cause: .monitor)))
        }
        // An inventory that cannot tell which sessions exist removes none.
        try await apply([inventory(seq: 20, sessions: nil)])
        #expect(try await scalar("SELECT count(*) FROM gluster_georep_session WHERE cluster_id = $1", [cluster]) == "2")
        #expect(try await scalar("SELECT status FROM gluster_volumes WHERE cluster_id = $1 AND vol_name = 'fresh'", [cluster]) == "Started")
        #expect(try await scalar("SELECT brick_dir FROM gluster_volume_bricks WHERE id = $1", [brick.id.uuidString]) == "/data/b1")
        // One that lists `stays`: `gone` goes; a session seen after the inventory was taken stays too.
        try await apply([snapshot(later, seq: 40, status: .initializing), inventory(seq: 30, sessions: [stays.sessionID])])
        let left = try await scalar("SELECT string_agg(master_volume_name, ',' ORDER BY master_volume_name) FROM gluster_georep_session WHERE cluster_id = $1", [cluster])
        #expect(left == "vol12,vol13")
        // A late snapshot of the removed session does not bring it back.
        try await apply([snapshot(gone, seq: 25, status: .active)])
        #expect(try await scalar("SELECT count(*) FROM gluster_georep_session WHERE session_id = $1", [gone.sessionID.uuidString]) == "0")
        try await cleanup()
    }

    @Test func anAcceptedCommandIsPendingUntilItsResult() async throws {
        let command = Command(action: .start, session: ref(14), sender: "api-tests")
        let id = command.commandId.uuidString
        try await apply([.commandAccepted(CommandAccepted(command: command))])
        #expect(try await scalar("SELECT outcome FROM georep_commands WHERE command_id = $1", [id]) == "pending")
        let result = CommandResult(commandId: command.commandId, action: "start", session: command.session, outcome: .failed,
                                   message: "gluster said no", error: ErrorInfo(code: "gluster_failed", message: "no"))
        try await apply([.commandResult(result)])
        #expect(try await scalar("SELECT outcome || ':' || message || ':' || error_code FROM georep_commands WHERE command_id = $1", [id])
                == "failed:gluster said no:gluster_failed")
        // A replayed acceptance or a second result changes nothing.
        try await apply([.commandAccepted(CommandAccepted(command: command)),
                         .commandResult(CommandResult(commandId: command.commandId, action: "start", session: command.session, outcome: .succeeded, message: "late"))])
        #expect(try await scalar("SELECT outcome FROM georep_commands WHERE command_id = $1", [id]) == "failed")
        try await database.run { (db) throws(PGError) in try db.execute("DELETE FROM georep_commands WHERE command_id = $1", [id]) }
    }

    @Test func readersHearOfCommitsThroughNotify() async throws {
        let listener = PGConnection(url: env.postgresURL, name: "listener", logger: logger)
        try await listener.run { (db) throws(PGError) in try db.execute("LISTEN \(EventStore.notifyChannel)") }
        let r = ref(2)
        try await apply([snapshot(r, seq: 1, status: .initializing)])
        let note = try await listener.run { (db) throws(PGError) in try db.nextNotification(timeout: 5) }
        #expect(note?.channel == EventStore.notifyChannel)
        #expect(note?.payload.contains(r.sessionID.uuidString.lowercased()) == true, "\(String(describing: note))")
        await listener.close()
        try await cleanup()
    }

    /// A persister on a topology of the test's own.
    func withPersister(_ topology: GeoRepTopology, _ body: () async throws -> Void) async throws {
        let persister = PersisterService(configuration: PersisterConfiguration(amqpURL: env.amqpURL, postgresURL: env.postgresURL,
                                                                               topology: topology, maxBatch: 200),
                                         logger: logger)
        let task = Task { try? await persister.run() }
        do { try await body() } catch {
            task.cancel()
            throw error
        }
        task.cancel()
        _ = await task.value
    }

    func withTopology(_ body: (GeoRepTopology, AMQPConnection) async throws -> Void) async throws {
        let topology = GeoRepTopology(prefix: "p\(UUID().uuidString.prefix(8).lowercased())")
        let amqp = try AMQPConfiguration(url: env.amqpURL)
        let admin = AMQPConnection(configuration: amqp, name: "georep persister tests", logger: logger)
        try await admin.open()
        try await admin.declare(topology.topology)
        var failure: Error?
        do { try await body(topology, admin) } catch { failure = error }
        for q in topology.topology.queues { try? await admin.deleteQueue(q.name) }
        for e in topology.topology.exchanges { try? await admin.deleteExchange(e.name) }
        await admin.close()
        if let failure { throw failure }
    }

    @Test func badEventsGoToTheDeadLetterQueueAndTheRestCommits() async throws {
        try await withTopology { topology, admin in
            let r = ref(3)
            let bus = GeoRepBus(connection: admin, source: "tests", topology: topology)
            try await bus.publish(snapshot(r, seq: 1, status: .active))
            // Unreadable, of an unknown type, and one PostgreSQL refuses (a session key longer than its column).
            for body in [Array("{not json".utf8),
                         Array(#"{"specversion":"1.0","id":"1","source":"t","type":"georep.unheard.of","data":{}}"#.utf8)] {
                try await admin.publish(exchange: topology.eventsExchange, routingKey: "georep.bad", body: body, properties: MessageProperties())
            }
            var tooLong = snapshot(ref(4), seq: 1, status: .active)
            if case .sessionSnapshot(var s) = tooLong { s.sessionKey = String(repeating: "k", count: 400); tooLong = .sessionSnapshot(s) }
            try await bus.publish(tooLong)
            for seq in 2...4 { try await bus.publish(statusChange(r, seq: Int64(seq), to: seq == 4 ? .paused : .active)) }

            try await withPersister(topology) {
                let done = try await eventually(30) { () -> Bool? in
                    let dead = try await admin.messageCount(queue: topology.deadLetterQueue)
                    let status = try await scalar("SELECT status FROM gluster_georep_session WHERE session_id = $1", [r.sessionID.uuidString])
                    return dead == 3 && status == "PAUSED" ? true : nil
                }
                #expect(done == true)
            }
            #expect(try await scalar("SELECT count(*) FROM georep_status_history WHERE session_id = $1", [r.sessionID.uuidString]) == "3")
            #expect(try await scalar("SELECT count(*) FROM gluster_georep_session WHERE session_id = $1", [ref(4).sessionID.uuidString]) == "0")
            let dead = try await admin.consume(queues: [topology.deadLetterQueue], prefetch: 10)
            var codes: [String] = []
            for try await d in dead {
                if case .string(let code) = d.properties.header("x-georep-error-code") { codes.append(code) }
                if codes.count == 3 { break }
            }
            #expect(Set(codes) == ["malformed_json", "unknown_event_type", "store_refused"])
        }
        try await cleanup()
    }

    /// Status events for `sessions` sessions, `perSession` each, with increasing stamps.
    func statusStream(sessions: Int, perSession: Int, base: Int64) -> [Event] {
        (0..<perSession).flatMap { i in
            (0..<sessions).map { n in statusChange(ref(100 + n), seq: base + Int64(i), to: i % 2 == 0 ? .active : .passive) }
        }
    }

    func historyCount(sessions: Int, in other: PGConnection? = nil) async throws -> Int {
        let ids = (0..<sessions).map { ref(100 + $0).sessionID.uuidString }
        return Int(try await scalar("SELECT count(*) FROM georep_status_history WHERE session_id = ANY($1::uuid[])", [PGArray.literal(ids)],
                                    in: other) ?? "0") ?? 0
    }

    @Test(.timeLimit(.minutes(4)))
    func aPostgresRestartLosesNothingAndCountsNothingTwice() async throws {
        try await withTopology { topology, admin in
            let sessions = 20
            try await apply((0..<sessions).map { snapshot(ref(100 + $0), seq: 1, status: .active) })
            let events = statusStream(sessions: sessions, perSession: 50, base: 10)
            try await withPersister(topology) {
                let bus = GeoRepBus(connection: admin, source: "tests", topology: topology)
                // The restart runs while events keep coming: some arrive while PostgreSQL is away.
                var restart: Task<Int32, Never>?
                for (i, event) in events.enumerated() {
                    try await bus.publish(event)
                    if i == events.count / 3 { restart = Task.detached { restartService("postgres") } }
                    if restart != nil { try await Task.sleep(for: .milliseconds(2)) }
                }
                #expect(await restart?.value == 0, "ops/restart.sh postgres failed")
                let all = try await eventually(90) { try await historyCount(sessions: sessions) >= events.count ? true : nil }
                #expect(all == true)
            }
            #expect(try await historyCount(sessions: sessions) == events.count, "every transition exactly once")
            #expect(try await admin.messageCount(queue: topology.persisterQueue) == 0)
        }
        try await cleanup()
    }

    @Test(.timeLimit(.minutes(4)))
    func aKill9MidBatchLosesNothingAndCountsNothingTwice() async throws {
        try await withTopology { topology, admin in
            let sessions = 20
            try await apply((0..<sessions).map { snapshot(ref(100 + $0), seq: 1, status: .active) })
            let events = statusStream(sessions: sessions, perSession: 100, base: 10)
            let bus = GeoRepBus(connection: admin, source: "tests", topology: topology)
            for event in events { try await bus.publish(event) }
            let environment = ["GEOREP_AMQP_URL": env.amqpURL, "GEOREP_PG_URL": env.postgresURL, "GEOREP_TOPOLOGY_PREFIX": topology.prefix]
            let first = try spawnGeorep(["persister"], environment: environment)
            // Kill it in the middle: some batches committed, one likely in flight.
            _ = try await eventually(60, every: 0.05) { try await historyCount(sessions: sessions) > events.count / 4 ? true : nil }
            kill(first, SIGKILL)
            var status: Int32 = 0
            waitpid(first, &status, 0)
            let partial = try await historyCount(sessions: sessions)
            #expect(partial < events.count, "the kill came too late to be mid-stream")
            let second = try spawnGeorep(["persister"], environment: environment)
            let all = try await eventually(90) { try await historyCount(sessions: sessions) >= events.count ? true : nil }
            kill(second, SIGTERM)
            waitpid(second, &status, 0)
            #expect(all == true)
            #expect(try await historyCount(sessions: sessions) == events.count, "every transition exactly once")
            print("kill -9 after \(partial) of \(events.count) transitions; all \(events.count) stored once after a restart")
        }
        try await cleanup()
    }

    /// libpq's own host list, as for a primary with a standby (issue 18): a host that does not
    /// answer comes first, and `target_session_attrs=read-write` settles on the writable one.
    @Test func aHostListSettlesOnTheWritableServer() async throws {
        let url = try #require(URLComponents(string: env.postgresURL))
        let host = url.host ?? "127.0.0.1", port = url.port ?? 5432
        let listed = env.postgresURL.replacingOccurrences(of: "@\(host):\(port)/", with: "@127.0.0.1:1,\(host):\(port)/")
        try #require(listed != env.postgresURL, "cannot put a dead host before \(host):\(port)")
        let separator = listed.contains("?") ? "&" : "?"
        let primary = PGConnection(url: listed + separator + "target_session_attrs=read-write&connect_timeout=5", name: "host list", logger: logger)
        let answer = try await primary.run { (db) throws(PGError) in
            try db.execute("SELECT pg_is_in_recovery()::text, current_setting('port')").rows.first
        }
        #expect(answer == ["false", "\(port)"], "\(String(describing: answer))")
        await primary.close()
    }

    @Test func migrationsRunSafelyFromSeveralProcessesAtOnce() async throws {
        let scratch = "georep_migtest_\(getpid())"
        try await database.run { (db) throws(PGError) in
            try db.execute("DROP DATABASE IF EXISTS \(scratch)")
            try db.execute("CREATE DATABASE \(scratch)")
        }
        var components = try #require(URLComponents(string: env.postgresURL))
        components.path = "/\(scratch)"
        let url = try #require(components.string)
        let pids = try (0..<3).map { _ in try spawnGeorep(["migrate", "--schemas", TestEnvironment.schemasDirectory], environment: ["GEOREP_PG_URL": url]) }
        for pid in pids {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            #expect(status == 0, "a concurrent georep migrate failed")
        }
        let scratchDB = PGConnection(url: url, name: "scratch", logger: logger)
        let versions = try await scratchDB.run { (db) throws(PGError) in
            try db.execute("SELECT version FROM georep_schema_migrations ORDER BY version").rows.compactMap { $0[0] }
        }
        let files = try Migrator(directory: TestEnvironment.schemasDirectory, logger: logger).migrations().map { String($0.version) }
        #expect(versions == files)
        await scratchDB.close()
        try await database.run { (db) throws(PGError) in try db.execute("DROP DATABASE IF EXISTS \(scratch)") }
    }
}
}

/// Starts the built `georep` executable (from `swift build`) with extra environment; returns its pid.
func spawnGeorep(_ arguments: [String], environment: [String: String], output: URL? = nil) throws -> pid_t {
    try spawnGeorepProcess(arguments, environment: environment, output: output).processIdentifier
}

/// The same, as a `Process` (Foundation reaps its children itself: ask it for the exit status).
func spawnGeorepProcess(_ arguments: [String], environment: [String: String], output: URL? = nil) throws -> Process {
    let root = URL(fileURLWithPath: TestEnvironment.schemasDirectory).deletingLastPathComponent().deletingLastPathComponent()
    let binary = root.appendingPathComponent(".build/debug/georep").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    // An ephemeral HTTP port unless the test names one: several processes run side by side.
    let defaults = ["GEOREP_LOG_LEVEL": "warning", "GEOREP_HTTP": "127.0.0.1:0"]
    process.environment = ProcessInfo.processInfo.environment.merging(defaults.merging(environment) { $1 }) { $1 }
    if let output {
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
    }
    try process.run()
    return process
}

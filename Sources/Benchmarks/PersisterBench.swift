import AMQP
import ArgumentParser
import Foundation
import GeoRepCore
import Logging
import Persister
import Postgres

/// N synthetic status events through RabbitMQ into PostgreSQL, four ways, in one run:
///
/// - the persister (`georep persister`, a separate process whose RSS is sampled),
/// - a baseline consumer that commits one transaction per message,
/// - the two limits of this machine: consuming and decoding the same events without writing,
///   and `COPY` of the same history rows.
///
/// Everything runs on a topology and a cluster of the benchmark's own, removed afterwards.
struct PersisterBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "persister",
        abstract: "Events per second into PostgreSQL: the persister vs one transaction per message, beside consume-only and COPY limits.")

    @Option(help: "RabbitMQ URL (env GEOREP_AMQP_URL).") var amqpURL: String?
    @Option(name: .customLong("pg-url"), help: "PostgreSQL URL (env GEOREP_PG_URL).") var postgresURL: String?
    @Option(help: "Status events in the stream.") var events = 20_000
    @Option(help: "Sessions the events are spread over.") var sessions = 200
    @Option(help: "Events the one-transaction-per-message baseline processes (it is slow).") var baselineEvents = 2_000
    @Option(help: "Directory of the SQL migrations.") var schemas = "Schemas/sql"

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let amqpURL = amqpURL ?? env["GEOREP_AMQP_URL"], let pgURL = postgresURL ?? env["GEOREP_PG_URL"] else {
            throw ValidationError("pass --amqp-url and --pg-url or set GEOREP_AMQP_URL and GEOREP_PG_URL (source /var/lib/georep/stack.env)")
        }
        let georep = try BenchSupport.georepPath()
        var logger = Logger(label: "georep.bench")
        logger.logLevel = .warning
        let tag = UUID().uuidString.prefix(8).lowercased()
        let topology = GeoRepTopology(prefix: "bench\(tag)")
        let world = SyntheticWorld(cluster: "bench-\(tag)", sessions: sessions)
        let database = PGConnection(url: pgURL, name: "bench", logger: logger)
        _ = try await Migrator(directory: schemas, logger: logger).migrate(database)
        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: amqpURL), name: "georep bench persister", logger: logger)
        try await admin.open()
        try await admin.declare(topology.topology)
        let bus = GeoRepBus(connection: admin, source: "georep/bench", topology: topology)

        print("\(events) status events (session and brick transitions) over \(sessions) sessions, through RabbitMQ into PostgreSQL")
        try await world.seed(database)
        defer { print("(benchmark rows, queues and exchanges removed)") }

        // Limit 1: consume and decode the same events without writing.
        let stream = world.events(count: events, firstSeq: 1_000)
        try await publish(stream, bus)
        let consumeOnly = try await consumeWithoutWriting(count: events, queue: topology.persisterQueue, amqpURL: amqpURL, logger: logger)

        // Limit 2: COPY of the rows the persister writes for these events (into a copy of the table, indexes included).
        let copy = try await copyLimit(world.historyRows(stream), database)

        // The persister, as a separate process.
        let persisterStream = world.events(count: events, firstSeq: 100_000)
        try await publish(persisterStream, bus)
        let persister = try await measurePersister(georep: georep, expected: events, world: world, topology: topology,
                                                   amqpURL: amqpURL, pgURL: pgURL, database: database, admin: admin)

        // Baseline: one transaction and one ack per message.
        let baselineStream = world.events(count: baselineEvents, firstSeq: 1_000_000)
        try await publish(baselineStream, bus)
        let baseline = try await oneTransactionPerMessage(count: baselineEvents, queue: topology.persisterQueue, amqpURL: amqpURL,
                                                          database: database, logger: logger)

        let limit = min(consumeOnly, copy)
        print(String(format: "  persister (batched, one process)       %9.0f events/s   peak RSS %.1f MiB, at the end %.1f MiB",
                     persister.rate, persister.peakRSS, persister.finalRSS))
        print(String(format: "  baseline (one transaction per message) %9.0f events/s   (%d events)", baseline, baselineEvents))
        print(String(format: "  limit: consume + decode, no writes     %9.0f events/s", consumeOnly))
        print(String(format: "  limit: COPY of the same rows           %9.0f rows/s", copy))
        print(String(format: "  persister / baseline                   %9.1fx   (target at least 20x)", persister.rate / baseline))
        print(String(format: "  persister / lower limit                %9.0f%%   (target at least 50%%)", 100 * persister.rate / limit))

        try await world.remove(database)
        await admin.remove(topology.topology)
        await admin.close()
        await database.close()
    }

    func publish(_ events: [Event], _ bus: GeoRepBus) async throws {
        var i = 0
        while i < events.count {
            let chunk = Array(events[i..<min(i + 1000, events.count)])
            try await bus.publish(chunk)
            i += chunk.count
        }
    }

    func consumeWithoutWriting(count: Int, queue: String, amqpURL: String, logger: Logger) async throws -> Double {
        let consumer = AMQPConnection(configuration: try AMQPConfiguration(url: amqpURL), name: "georep bench consume-only", logger: logger)
        try await consumer.open()
        let start = ContinuousClock.now
        var received = 0
        for try await delivery in try await consumer.consume(queues: [queue], prefetch: 1000) {
            _ = try MessageCodec.decodeEvent(delivery.body)
            received += 1
            if received % 500 == 0 || received == count { try await consumer.ackAll(upTo: delivery) }
            if received == count { break }
        }
        let rate = Double(count) / seconds(ContinuousClock.now - start)
        await consumer.close()
        return rate
    }

    func copyLimit(_ rows: [[String?]], _ database: PGConnection) async throws -> Double {
        try await database.run { (db) throws(PGError) -> Double in
            try db.execute("CREATE TEMP TABLE IF NOT EXISTS bench_history (LIKE georep_status_history INCLUDING ALL)")
            let start = ContinuousClock.now
            try db.transaction { () throws(PGError) in
                try db.copyIn("""
                    COPY bench_history (session_id, master_brick_id, brick_name, from_status, to_status, observed_seq, observed_at,
                                        cause, cause_command_id) FROM STDIN
                    """, rows: rows)
            }
            let rate = Double(rows.count) / seconds(ContinuousClock.now - start)
            try db.execute("DROP TABLE bench_history")
            return rate
        }
    }

    func measurePersister(georep: String, expected: Int, world: SyntheticWorld, topology: GeoRepTopology, amqpURL: String, pgURL: String,
                          database: PGConnection, admin: AMQPConnection) async throws -> (rate: Double, peakRSS: Double, finalRSS: Double) {
        let before = try await world.historyCount(database)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: georep)
        process.arguments = ["persister"]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "GEOREP_AMQP_URL": amqpURL, "GEOREP_PG_URL": pgURL, "GEOREP_TOPOLOGY_PREFIX": topology.prefix, "GEOREP_LOG_LEVEL": "warning",
            "GEOREP_HTTP": "127.0.0.1:0",
        ]) { $1 }
        try process.run()
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
        // The clock starts when the persister starts taking events, not at process start.
        var start = ContinuousClock.now
        let ready = try await admin.messageCount(queue: topology.persisterQueue)
        while try await admin.messageCount(queue: topology.persisterQueue) == ready {
            start = ContinuousClock.now
            try await Task.sleep(for: .milliseconds(5))
            guard process.isRunning else { throw ValidationError("georep persister exited with status \(process.terminationStatus)") }
        }
        var peak = 0.0
        var done = ContinuousClock.now
        while true {
            peak = max(peak, rssMiB(process.processIdentifier))
            if try await world.historyCount(database) - before >= expected { done = ContinuousClock.now; break }
            guard process.isRunning else { throw ValidationError("georep persister exited with status \(process.terminationStatus)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        let final = rssMiB(process.processIdentifier)
        return (Double(expected) / seconds(done - start), max(peak, final), final)
    }

    func oneTransactionPerMessage(count: Int, queue: String, amqpURL: String, database: PGConnection, logger: Logger) async throws -> Double {
        let consumer = AMQPConnection(configuration: try AMQPConfiguration(url: amqpURL), name: "georep bench baseline", logger: logger)
        try await consumer.open()
        let store = EventStore()
        let start = ContinuousClock.now
        var received = 0
        for try await delivery in try await consumer.consume(queues: [queue], prefetch: 1) {
            let event = try MessageCodec.decodeEvent(delivery.body).event
            try await database.run { (db) throws(PGError) in
                try db.transaction { () throws(PGError) in try store.apply(event, in: db) }
            }
            try await consumer.ack(delivery)
            received += 1
            if received == count { break }
        }
        let rate = Double(count) / seconds(ContinuousClock.now - start)
        await consumer.close()
        return rate
    }

    /// Resident set size of a process, from /proc.
    func rssMiB(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kb / 1024
    }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

/// Synthetic sessions of a cluster of the benchmark's own, and status streams over them.
struct SyntheticWorld {
    let cluster: String
    let sessions: Int
    let volumeID = "0b0e0f00-1111-4222-8333-444455556666"

    func ref(_ n: Int) -> SessionRef {
        SessionRef(cluster: cluster, primaryVolume: "pvol\(n)", secondaryHost: "backup.example", secondaryVolume: "svol\(n)")
    }

    func brickID(_ n: Int, _ b: Int) -> UUID { StableID.brick(volumeID: volumeID, host: "node\(b)", path: "/bricks/pvol\(n)/b\(b)") }

    func seed(_ database: PGConnection) async throws {
        let snapshots: [Event] = (0..<sessions).map { n in
            let bricks = (1...2).map { b in
                BrickDetail(brickId: brickID(n, b), primaryNode: "node\(b)", primaryBrick: "/bricks/pvol\(n)/b\(b)", status: .active,
                            rawStatus: "Active", crawlStatus: "Changelog Crawl")
            }
            return .sessionSnapshot(SessionSnapshot(
                session: ref(n), sessionKey: nil, primaryVolumeId: nil, secondaryVolumeId: nil, status: .active, bricks: bricks,
                options: ["sync_jobs": "3"], observation: Observation(seq: 1, at: Date(), cause: .monitor)))
        }
        try await database.run { (db) throws(PGError) in
            try db.transaction { () throws(PGError) in _ = try EventStore().apply(batch: snapshots, in: db) }
        }
    }

    /// `count` transitions, alternating session and brick changes, stamps rising from `firstSeq`.
    func events(count: Int, firstSeq: Int64) -> [Event] {
        (0..<count).map { i in
            let n = i % sessions
            let seq = firstSeq + Int64(i)
            let to: GeoRepStatus = (i / sessions) % 2 == 0 ? .passive : .active
            let observation = Observation(seq: seq, at: Date(), cause: .monitor)
            if i % 2 == 0 {
                return .sessionStatusChanged(SessionStatusChanged(session: ref(n), from: to == .active ? .passive : .active, to: to,
                                                                  observation: observation))
            }
            let b = 1 + (i / 2) % 2
            return .brickStatusChanged(BrickStatusChanged(session: ref(n), brickId: brickID(n, b), brick: "node\(b):/bricks/pvol\(n)/b\(b)",
                                                          from: to == .active ? .passive : .active, to: to, observation: observation))
        }
    }

    /// The history rows the persister writes for `events`.
    func historyRows(_ events: [Event]) -> [[String?]] {
        events.compactMap { event -> [String?]? in
            switch event {
            case .sessionStatusChanged(let e):
                return [e.sessionId.uuidString, nil, nil, e.from?.rawValue, e.to.rawValue, String(e.observation.seq),
                        Timestamp.format(e.observation.at), "monitor", nil]
            case .brickStatusChanged(let e):
                return [e.sessionId.uuidString, e.brickId?.uuidString, e.brick, e.from?.rawValue, e.to.rawValue, String(e.observation.seq),
                        Timestamp.format(e.observation.at), "monitor", nil]
            default:
                return nil
            }
        }
    }

    func historyCount(_ database: PGConnection) async throws -> Int {
        let ids = PGArray.literal((0..<sessions).map { ref($0).sessionID.uuidString })
        return try await database.run { (db) throws(PGError) -> Int in
            Int(try db.execute("SELECT count(*) FROM georep_status_history WHERE session_id = ANY($1::uuid[])", [ids]).rows.first?[0] ?? "0") ?? 0
        }
    }

    func remove(_ database: PGConnection) async throws {
        let ids = PGArray.literal((0..<sessions).map { ref($0).sessionID.uuidString })
        try await database.run { [cluster] (db) throws(PGError) in
            try db.execute("DELETE FROM georep_status_history WHERE session_id = ANY($1::uuid[])", [ids])
            try db.execute("DELETE FROM gluster_georep_session WHERE cluster_id = $1", [cluster])
            try db.execute("DELETE FROM gluster_clusters WHERE cluster_id = $1", [cluster])
        }
    }
}

import AMQP
import ArgumentParser
import Foundation
import GeoRepCore
import Logging
import Persister
import Postgres

/// Mixed events as the workers publish them (a status storm: each flip of a session is a session
/// status change, a change of each brick and a snapshot, all under one stamp; now and then a
/// command accepted and its result), through RabbitMQ into PostgreSQL, in one run:
///
/// - the persister (`georep persister`, a separate process whose RSS is sampled), and its
///   publish→commit latency at a light load afterwards,
/// - one transaction per event (the baseline),
/// - a batched Python peer (`ops/bench/persister_peer.py`, pika + psycopg2),
/// - the limits: our consume + decode without writes, and `COPY` of the same history rows.
///
/// Everything runs on a topology and a cluster of the benchmark's own, removed afterwards; the
/// tables are the ones the migrations make (`--schemas`), nothing of its own.
struct PersisterBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "persister",
        abstract: "Events per second into PostgreSQL: the persister vs one transaction per event and a batched Python peer, beside consume+decode and COPY limits.")

    @Option(help: "RabbitMQ URL (env GEOREP_AMQP_URL).") var amqpURL: String?
    @Option(name: .customLong("pg-url"), help: "PostgreSQL URL (env GEOREP_PG_URL).") var postgresURL: String?
    @Option(help: "Events in the stream the persister, the limits and the peer take.") var events = 100_000
    @Option(help: "Sessions the events are spread over.") var sessions = 1_000
    @Option(help: "Events the one-transaction-per-event baseline processes (it is slow).") var baselineEvents = 2_000
    @Option(help: "Events published one by one at --light-rate to measure publish→commit.") var lightEvents = 5_000
    @Option(help: "Events per second of the light load.") var lightRate = 1_000
    @Option(help: "Directory of the SQL migrations.") var schemas = "Schemas/sql"
    @Option(help: "Python interpreter for the peer (pika and psycopg2 from ops/requirements.txt).") var python = "python3"

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let amqpURL = amqpURL ?? env["GEOREP_AMQP_URL"], let pgURL = postgresURL ?? env["GEOREP_PG_URL"] else {
            throw ValidationError("pass --amqp-url and --pg-url or set GEOREP_AMQP_URL and GEOREP_PG_URL (source /var/lib/georep/stack.env)")
        }
        let georep = try BenchSupport.georepPath()
        let peer = BenchSupport.repository.appendingPathComponent("ops/bench/persister_peer.py").path
        var logger = Logger(label: "georep.bench")
        logger.logLevel = .warning
        let tag = UUID().uuidString.prefix(8).lowercased()
        let topology = GeoRepTopology(prefix: "bench\(tag)")
        let world = SyntheticWorld(cluster: "bench-\(tag)", sessions: sessions)
        let database = PGConnection(url: pgURL, name: "bench", logger: logger)
        // The persister's tables as the migrations make them: the benchmark has no SQL of its own for them.
        _ = try await Migrator(directory: schemas, logger: logger).migrate(database)
        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: amqpURL), name: "georep bench persister", logger: logger)
        try await admin.open()
        try await admin.declare(topology.topology)
        let bus = GeoRepBus(connection: admin, source: "georep/bench", topology: topology)

        let sample = world.events(count: events, firstSeq: 1_000)
        let mix = Dictionary(grouping: sample, by: \.type).mapValues(\.count).sorted { $0.value > $1.value }
            .map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        print("\(sample.count) events over \(sessions) sessions (\(mix)), through RabbitMQ into PostgreSQL")
        // The rows earlier runs deleted are dead until autovacuum comes by, and would slow
        // whichever line happens to run first: gone before any is measured, so runs compare.
        try await database.run { (db) throws(PGError) in
            try db.execute("VACUUM (ANALYZE) georep_status_history, gluster_georep_session_details, gluster_georep_config, gluster_georep_session, georep_commands")
        }
        try await world.seed(database)
        defer { print("(benchmark rows, queues and exchanges removed)") }

        // Limit 1: our consume + decode, without writing.
        try await publish(sample, bus)
        let consumeOnly = try await consumeWithoutWriting(count: sample.count, queue: topology.persisterQueue, amqpURL: amqpURL, logger: logger)

        // Limit 2: COPY of the history rows the persister writes for these events.
        let copy = try await copyLimit(world.historyRows(sample), database)

        // The persister, as a separate process; then, still running, a light load.
        let persisterStream = world.events(count: events, firstSeq: 1_000_000)
        try await publish(persisterStream, bus)
        let persister = try await measurePersister(georep: georep, stream: persisterStream, world: world, topology: topology,
                                                   amqpURL: amqpURL, pgURL: pgURL, database: database, admin: admin, bus: bus, logger: logger)

        // Baseline: one transaction and one ack per event.
        let baselineStream = world.events(count: baselineEvents, firstSeq: 100_000_000)
        try await publish(baselineStream, bus)
        let baseline = try await oneTransactionPerEvent(count: baselineEvents, queue: topology.persisterQueue, amqpURL: amqpURL,
                                                        database: database, logger: logger)

        // The batched Python peer on the same kind of stream.
        let peerStream = world.events(count: events, firstSeq: 1_000_000_000)
        try await publish(peerStream, bus)
        let python = try runPeer(peer, count: peerStream.count, queue: topology.persisterQueue, amqpURL: amqpURL, pgURL: pgURL)

        print(String(format: "  persister (batched, one process)        %9.0f events/s   (%d events, all acked: \(persister.allAcked ? "yes" : "NO"))",
                     persister.rate, persisterStream.count))
        print(String(format: "  one transaction per event               %9.0f events/s   (%d events)", baseline, baselineEvents))
        print(String(format: "  Python peer (pika + psycopg2, 500/batch) %8.0f events/s   (%d events)", python, peerStream.count))
        print(String(format: "  limit: our consume + decode, no writes  %9.0f events/s   (target at least 80,000)", consumeOnly))
        print(String(format: "  limit: COPY of the history rows         %9.0f rows/s", copy))
        print(String(format: "  persister / one transaction per event   %9.1fx   (target at least 50x)", persister.rate / baseline))
        print(String(format: "  persister / Python peer                 %9.1fx   (target at least 4x)", persister.rate / python))
        print(String(format: "  persister, target 50,000 events/s       %9.0f%%", 100 * persister.rate / 50_000))
        print(String(format: "  publish→commit at %d events/s          p50 %.1f ms, p99 %.1f ms, max %.1f ms   (%d events; target p99 < 100 ms)",
                     lightRate, persister.latency.p50, persister.latency.p99, persister.latency.max, persister.latency.count))
        print(String(format: "  persister RSS                           peak %.1f MiB, steady %.1f MiB, after the light load %.1f MiB   (target < 60 MiB)",
                     persister.peakRSS, persister.steadyRSS, persister.finalRSS))
        // Two cores give 40 µs of CPU per event at 50,000 events/s, for every process together.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("  CPU per event while the persister ran   " + persister.cpu.map { "\($0.name) " + String(format: "%.1f µs", $0.micros) }
            .joined(separator: ", ") + String(format: "   (all: %.1f µs; 50,000/s on %d cores leaves %.0f µs)",
                                                persister.cpu.reduce(0) { $0 + $1.micros }, cores, Double(cores) * 1_000_000 / 50_000))

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

    /// The persister's own reading path (deliveries in arrays, the envelope decoder), acking as it goes.
    func consumeWithoutWriting(count: Int, queue: String, amqpURL: String, logger: Logger) async throws -> Double {
        let consumer = AMQPConnection(configuration: try AMQPConfiguration(url: amqpURL), name: "georep bench consume-only", logger: logger)
        try await consumer.open()
        var received = 0
        var start: ContinuousClock.Instant?
        for try await deliveries in try await consumer.consumeBatches(queues: [queue], prefetch: 2000) {
            if start == nil { start = ContinuousClock.now }
            for delivery in deliveries { _ = try MessageCodec.decodeEvent(delivery.body) }
            received += deliveries.count
            if let last = deliveries.last { try await consumer.ackAll(upTo: last) }
            if received >= count { break }
        }
        let rate = Double(count) / seconds(ContinuousClock.now - (start ?? .now))
        await consumer.close()
        return rate
    }

    /// COPY into the migrations' own history table, in a transaction that is rolled back.
    func copyLimit(_ rows: [[String?]], _ database: PGConnection) async throws -> Double {
        try await database.run { (db) throws(PGError) -> Double in
            try db.execute("BEGIN")
            let start = ContinuousClock.now
            do throws(PGError) {
                try db.copyIn("""
                    COPY georep_status_history (session_id, master_brick_id, brick_name, from_status, to_status, observed_seq, observed_at,
                                                cause, cause_command_id) FROM STDIN
                    """, rows: rows)
            } catch {
                // The COPY's own error is the one to report; a failed rollback ends with the connection.
                _ = try? db.execute("ROLLBACK")
                throw error
            }
            let rate = Double(rows.count) / seconds(ContinuousClock.now - start)
            try db.execute("ROLLBACK")
            return rate
        }
    }

    struct PersisterFigures {
        var rate: Double
        var allAcked: Bool
        var peakRSS: Double
        var steadyRSS: Double
        var finalRSS: Double
        var latency: (p50: Double, p99: Double, max: Double, count: Int)
        /// CPU microseconds per event by part while the persister took the stream.
        var cpu: [(name: String, micros: Double)]
    }

    func measurePersister(georep: String, stream: [Event], world: SyntheticWorld, topology: GeoRepTopology, amqpURL: String, pgURL: String,
                          database: PGConnection, admin: AMQPConnection, bus: GeoRepBus, logger: Logger) async throws -> PersisterFigures {
        let expected = world.historyRows(stream).count
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
            try await Task.sleep(for: .milliseconds(2))
            guard process.isRunning else { throw ValidationError("georep persister exited with status \(process.terminationStatus)") }
        }
        let account = CPUAccount(persisterPID: process.processIdentifier)
        let cpuAtStart = account.read()
        var cpuAtEnd = cpuAtStart
        var samples: [Double] = []
        var done = ContinuousClock.now
        while true {
            samples.append(CPUTimes.rssMiB(pid: process.processIdentifier))
            // The last events of the stream are a flip of its last session: its snapshot is the very last.
            // That one-row lookup comes first: counting the history rows reads tens of thousands
            // of index entries, and polled every 20 ms it took PostgreSQL time from the persister.
            if try await world.sessionSeq(stream.last!, database), try await world.historyCount(database) - before >= expected {
                done = ContinuousClock.now
                cpuAtEnd = account.read()
                break
            }
            guard process.isRunning else { throw ValidationError("georep persister exited with status \(process.terminationStatus)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let rate = Double(stream.count) / seconds(done - start)
        // Acks follow commits at once; give the last one a moment to reach the broker.
        try await Task.sleep(for: .milliseconds(300))
        let allAcked = try await admin.messageCount(queue: topology.persisterQueue) == 0
        let latency = try await lightLoad(world: world, bus: bus, pgURL: pgURL, logger: logger)
        let final = CPUTimes.rssMiB(pid: process.processIdentifier)
        // Steady: the median of the samples of the second half of the run.
        let steady = BenchSupport.quantile(Array(samples.suffix(max(1, samples.count / 2))), 0.5)
        return PersisterFigures(rate: rate, allAcked: allAcked, peakRSS: max(samples.max() ?? 0, final), steadyRSS: steady, finalRSS: final,
                                latency: latency, cpu: account.perEvent(from: cpuAtStart, to: cpuAtEnd, events: stream.count))
    }

    /// Events published one at a time at `lightRate` a second, each about a session no other event
    /// of the last second was about; its latency ends when a reader LISTENing on the persister's
    /// channel hears the commit that names its session.
    func lightLoad(world: SyntheticWorld, bus: GeoRepBus, pgURL: String, logger: Logger) async throws -> (p50: Double, p99: Double, max: Double, count: Int) {
        let listener = PGConnection(url: pgURL, name: "bench listener", logger: logger)
        try await listener.run { (db) throws(PGError) in try db.execute("LISTEN \(EventStore.notifyChannel)") }
        let stream = world.lightEvents(count: lightEvents, firstSeq: 10_000_000)
        let clock = ContinuousClock()
        let pending = PendingCommits()
        let listening = Task {
            while !Task.isCancelled {
                guard let note = try await listener.run({ (db) throws(PGError) in try db.nextNotification(timeout: 0.2) }) else { continue }
                let heard = clock.now
                // A payload that does not list sessions (`"many"`) names none of ours: nothing to match.
                guard let object = try? JSONSerialization.jsonObject(with: Data(note.payload.utf8)) as? [String: Any],
                      let ids = object["sessions"] as? [String] else { continue }
                await pending.heard(ids, at: heard)
            }
        }
        let start = clock.now
        for (i, event) in stream.enumerated() {
            let due = start + .microseconds(i * 1_000_000 / lightRate)
            if due > clock.now { try await Task.sleep(until: due, clock: clock) }
            guard let session = event.sessionID else { continue }
            await pending.published(session.uuidString.lowercased(), at: clock.now)
            try await bus.publish(event)
        }
        let deadline = clock.now + .seconds(5)
        while await pending.outstanding > 0 && clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        listening.cancel()
        _ = await listening.result
        await listener.close()
        let latencies = await pending.latencies
        let missing = await pending.outstanding
        if missing > 0 { print("  (\(missing) light-load events not heard of within 5 s: counted as 5,000 ms)") }
        let all = latencies + Array(repeating: 5_000.0, count: missing)
        return (BenchSupport.quantile(all, 0.5), BenchSupport.quantile(all, 0.99), all.max() ?? .nan, all.count)
    }

    func oneTransactionPerEvent(count: Int, queue: String, amqpURL: String, database: PGConnection, logger: Logger) async throws -> Double {
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

    func runPeer(_ script: String, count: Int, queue: String, amqpURL: String, pgURL: String) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script, "--amqp-url", amqpURL, "--pg-url", pgURL, "--queue", queue, "--count", String(count), "--batch", "500"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let rate = object["rate"] as? Double
        else { throw ValidationError("the Python peer failed (status \(process.terminationStatus)): \(String(decoding: data, as: UTF8.self))") }
        return rate
    }
}

/// Light-load events waiting to be heard of, by session, and the latencies heard so far (ms).
actor PendingCommits {
    private var waiting: [String: [ContinuousClock.Instant]] = [:]
    private(set) var latencies: [Double] = []
    var outstanding: Int { waiting.values.reduce(0) { $0 + $1.count } }

    func published(_ session: String, at: ContinuousClock.Instant) { waiting[session, default: []].append(at) }

    func heard(_ sessions: [String], at: ContinuousClock.Instant) {
        for session in sessions {
            guard let times = waiting.removeValue(forKey: session) else { continue }
            latencies += times.map { seconds(at - $0) * 1000 }
        }
    }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

/// Synthetic sessions of a cluster of the benchmark's own, and event streams over them.
struct SyntheticWorld {
    let cluster: String
    let sessions: Int

    func ref(_ n: Int) -> SessionRef {
        SessionRef(cluster: cluster, primaryVolume: "pvol\(n)", secondaryHost: "backup.example", secondaryVolume: "svol\(n)")
    }

    func brickID(_ n: Int, _ b: Int) -> UUID { StableID.brick(volumeID: ref(n).key, host: "node\(b)", path: "/bricks/pvol\(n)/b\(b)") }

    func bricks(_ n: Int, _ status: GeoRepStatus) -> [BrickDetail] {
        (1...2).map { b in
            BrickDetail(brickId: brickID(n, b), primaryNode: "node\(b)", primaryBrick: "/bricks/pvol\(n)/b\(b)", secondaryNode: "backup.example",
                        status: status, rawStatus: status == .active ? "Active" : "Passive", crawlStatus: "Changelog Crawl",
                        entry: 0, data: 3, meta: 0, failures: 0, checkpointCompleted: false, lastSynced: Date(timeIntervalSince1970: 1_795_795_200))
        }
    }

    func snapshot(_ n: Int, _ status: GeoRepStatus, _ observation: Observation) -> Event {
        .sessionSnapshot(SessionSnapshot(session: ref(n), sessionKey: nil, primaryVolumeId: nil, secondaryVolumeId: nil, status: status,
                                         bricks: bricks(n, status), options: ["sync_jobs": "3", "use_meta_volume": "true"],
                                         observation: observation))
    }

    func seed(_ database: PGConnection) async throws {
        let snapshots = (0..<sessions).map { snapshot($0, .active, Observation(seq: 1, at: Date(), cause: .monitor)) }
        try await database.run { (db) throws(PGError) in
            try db.transaction { () throws(PGError) in _ = try EventStore().apply(batch: snapshots, in: db) }
        }
    }

    /// `count` events as a status storm publishes them: flips of sessions in turn, each a session
    /// change, two brick changes and a snapshot under one stamp (stamps rising from `firstSeq`);
    /// after every 25th flip a command accepted and its result.
    func events(count: Int, firstSeq: Int64) -> [Event] {
        var out: [Event] = []
        out.reserveCapacity(count + 4)
        var flip = 0
        while out.count < count {
            let n = flip % sessions
            let to: GeoRepStatus = (flip / sessions) % 2 == 0 ? .passive : .active
            let from: GeoRepStatus = to == .active ? .passive : .active
            let observation = Observation(seq: firstSeq + Int64(flip), at: Date(), cause: .monitor)
            out.append(.sessionStatusChanged(SessionStatusChanged(session: ref(n), from: from, to: to, observation: observation)))
            for b in 1...2 {
                out.append(.brickStatusChanged(BrickStatusChanged(session: ref(n), brickId: brickID(n, b), brick: "node\(b):/bricks/pvol\(n)/b\(b)",
                                                                  from: from, to: to, observation: observation)))
            }
            out.append(snapshot(n, to, observation))
            flip += 1
            if flip % 25 == 0 {
                let command = Command(action: .refresh, session: ref(n), sender: "bench")
                out.append(.commandAccepted(CommandAccepted(command: command)))
                out.append(.commandResult(CommandResult(commandId: command.commandId, action: "refresh", session: ref(n), outcome: .succeeded,
                                                        message: "refreshed")))
            }
        }
        // Whole flips: the last event is the last session's snapshot, which the clock waits for.
        while let last = out.last {
            if case .sessionSnapshot = last { break }
            out.removeLast()
        }
        return out
    }

    /// Single events for the light load: session `i` modulo the sessions, in turn a session change,
    /// a brick change and a snapshot.
    func lightEvents(count: Int, firstSeq: Int64) -> [Event] {
        (0..<count).map { i in
            let n = i % sessions
            let to: GeoRepStatus = i % 2 == 0 ? .active : .passive
            let observation = Observation(seq: firstSeq + Int64(i), at: Date(), cause: .monitor)
            switch i % 3 {
            case 0: return .sessionStatusChanged(SessionStatusChanged(session: ref(n), from: nil, to: to, observation: observation))
            case 1: return .brickStatusChanged(BrickStatusChanged(session: ref(n), brickId: brickID(n, 1), brick: "node1:/bricks/pvol\(n)/b1",
                                                                  from: nil, to: to, observation: observation))
            default: return snapshot(n, to, observation)
            }
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

    /// Whether the session of `event` (a snapshot) holds its stamp or a newer one.
    func sessionSeq(_ event: Event, _ database: PGConnection) async throws -> Bool {
        guard case .sessionSnapshot(let s) = event else { return true }
        let id = s.sessionId.uuidString
        let seq = try await database.run { (db) throws(PGError) -> Int64 in
            Int64(try db.execute("SELECT observed_seq FROM gluster_georep_session WHERE session_id = $1", [id]).rows.first?[0] ?? "0") ?? 0
        }
        return seq >= s.observation.seq
    }

    func remove(_ database: PGConnection) async throws {
        let ids = PGArray.literal((0..<sessions).map { ref($0).sessionID.uuidString })
        try await database.run { [cluster] (db) throws(PGError) in
            try db.execute("DELETE FROM georep_status_history WHERE session_id = ANY($1::uuid[])", [ids])
            try db.execute("DELETE FROM georep_commands WHERE session_id = ANY($1::uuid[])", [ids])
            try db.execute("DELETE FROM gluster_georep_session WHERE cluster_id = $1", [cluster])
            try db.execute("DELETE FROM gluster_clusters WHERE cluster_id = $1", [cluster])
        }
    }
}

import AMQP
import Foundation
import GeoRepCore
import Logging
import Testing

/// Several `georep worker` processes on clusters of the stand-in gluster: how they share the
/// shards, hand them over, monitor each cluster once, and never apply a command twice when one
/// of them is killed in the middle of it.
extension Integration {
@Suite(.serialized) struct WorkerFleetTests {
    let env: TestEnvironment
    let logger = TestEnvironment.logger

    init() throws { env = try TestEnvironment.load() }

    /// Runs `body` with an admin connection and a client that sees every event of the lab's topology.
    func withLab(clusters: Int, shards: Int, latency: Int = 0,
                 _ body: (StandinLab, AMQPConnection, CommandClient) async throws -> Void) async throws {
        let lab = try StandinLab(clusters: clusters, shards: shards, env: env, latencyMilliseconds: latency)
        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: env.amqpURL), name: "georep fleet tests", logger: logger)
        try await admin.open()
        try await admin.declare(lab.topology.topology)
        let client = try await CommandClient.connect(url: env.amqpURL, source: "georep/tests", topology: lab.topology, watchEvents: true,
                                                     logger: logger)
        var failure: Error?
        do { try await body(lab, admin, client) } catch { failure = error }
        await client.close()
        await lab.tearDown(admin)
        await admin.close()
        if let failure { throw failure }
    }

    /// The latest heartbeat of each worker, read for `seconds` from the membership exchange.
    func heartbeats(_ admin: AMQPConnection, _ lab: StandinLab, seconds: Double) async throws -> [String: WorkerHeartbeat] {
        let reader = AMQPConnection(configuration: try AMQPConfiguration(url: env.amqpURL), name: "georep fleet heartbeats", logger: logger)
        try await reader.open()
        let queue = try await reader.declareTemporaryQueue(bindings: [(lab.topology.membershipExchange, "")])
        let latest = Latest()
        let stream = try await reader.consume(queues: [queue], prefetch: 100)
        let pump = Task {
            for try await delivery in stream {
                if let beat = try? MessageCodec.decoder().decode(WorkerHeartbeat.self, from: Data(delivery.body)) {
                    await latest.add(beat)
                }
                try await reader.ack(delivery)
            }
        }
        try await Task.sleep(for: .seconds(seconds))
        pump.cancel()
        await reader.close()
        return await latest.beats.filter { $0.value.leaving != true }
    }

    /// Waits until exactly `workers` live workers hold the shards rendezvous hashing gives each of
    /// them (so every shard is held by exactly one; with few shards one worker may hold none).
    func waitForSplit(_ admin: AMQPConnection, _ lab: StandinLab, workers: Int) async throws -> [String: WorkerHeartbeat]? {
        try await eventually(40, every: 0) { () -> [String: WorkerHeartbeat]? in
            let beats = try await heartbeats(admin, lab, seconds: 1.2)
            let members = beats.keys.sorted()
            let split = beats.count == workers && beats.allSatisfy { name, beat in
                Set(beat.shards) == ShardAssignment.shards(of: name, members: members, count: lab.topology.shards)
            }
            return split ? beats : nil
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func workersSplitTheShardsMonitorEachClusterOnceAndTakeOverFromADeadOne() async throws {
        try await withLab(clusters: 4, shards: 8) { lab, admin, client in
            let first = try lab.spawnWorker()
            let second = try lab.spawnWorker()
            defer { stop(first, signal: SIGKILL); stop(second, signal: SIGKILL) }
            let split = try #require(try await waitForSplit(admin, lab, workers: 2), "two workers never split the 8 shards")
            print("two workers split the shards: \(split.mapValues(\.shards))")
            // Until the split, the first worker to start may have watched every cluster; a round it
            // began before handing a shard over may still finish (a round takes under a second here).
            let settled = Date().addingTimeInterval(1.5)

            // Sessions on every cluster: each command gets exactly its result.
            var commands: [Command] = []
            for cluster in 0..<lab.clusters.count {
                for n in 0..<3 {
                    commands.append(Command(action: .create, session: lab.session(n, cluster: cluster), sender: "tests"))
                    commands.append(Command(action: .start, session: lab.session(n, cluster: cluster), sender: "tests"))
                }
            }
            for command in commands { try await client.send(command) }
            var results: [UUID: CommandResult] = [:]
            var snapshotSources: [String: Set<String>] = [:]
            let deadline = Date().addingTimeInterval(90)
            while Date() < deadline, results.count < commands.count || snapshotSources.count < lab.clusters.count {
                guard let next = await client.nextEvent(timeout: 1), case .success(let (header, event)) = next else { continue }
                switch event {
                case .commandResult(let r): if let id = r.commandId { results[id] = r }
                case .sessionSnapshot(let s) where s.observation.cause == .monitor && s.observation.at > settled:
                    snapshotSources[s.session.cluster, default: []].insert(header.source)
                default: break
                }
            }
            #expect(results.count == commands.count)
            #expect(results.values.allSatisfy { $0.outcome == .succeeded }, "\(results.values.filter { $0.outcome != .succeeded }.map(\.message))")
            // Each cluster is monitored by one worker (the owner of its monitor shard).
            #expect(snapshotSources.count == lab.clusters.count, "monitor snapshots seen for \(snapshotSources.keys.sorted())")
            for (cluster, sources) in snapshotSources {
                #expect(sources.count == 1, "cluster \(cluster) was monitored by \(sources)")
            }

            // One dies: the other takes every shard, and commands keep working.
            stop(first, signal: SIGKILL)
            let alone = try #require(try await waitForSplit(admin, lab, workers: 1), "the survivor never took all shards")
            #expect(alone.values.first?.shards.count == lab.topology.shards)
            let after = try await client.run(Command(action: .stop, session: lab.session(0), sender: "tests"), timeout: 60)
            #expect(after.outcome == .succeeded, "\(after.message)")
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aCommandRedeliveredAfterItsWorkerWasKilledIsNotAppliedTwice() async throws {
        // Every gluster call takes 1.5 s: time to kill the worker after the pause took effect
        // and before its result was published.
        try await withLab(clusters: 1, shards: 2, latency: 1500) { lab, admin, client in
            let ref = lab.session(1)
            var worker = try lab.spawnWorker(monitorInterval: 0)
            defer { stop(worker, signal: SIGKILL) }
            for action in [CommandAction.create, .start] {
                let r = try await client.run(Command(action: action, session: ref, sender: "tests"), timeout: 60)
                #expect(r.outcome == .succeeded, "\(action): \(r.message)")
            }
            let pause = Command(action: .pause, session: ref, sender: "tests")
            try await client.send(pause)
            let id = pause.commandId.uuidString.lowercased()
            let applied = try await eventually(30, every: 0.1) { () -> Bool? in
                lab.journal().contains { $0["command_id"] as? String == id && $0["op"] as? String == "pause" } ? true : nil
            }
            #expect(applied == true, "the pause never reached gluster")
            stop(worker, signal: SIGKILL)
            worker = try lab.spawnWorker(monitorInterval: 0)

            var results: [CommandResult] = []
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                guard let next = await client.nextEvent(timeout: 1), case .success(let (_, event)) = next else {
                    if !results.isEmpty { break }
                    continue
                }
                if case .commandResult(let r) = event, r.commandId == pause.commandId { results.append(r) }
            }
            #expect(results.count == 1, "one result event per command, got \(results.map(\.message))")
            #expect(results.first?.outcome == .succeeded, "\(results.first?.message ?? "no result")")
            let calls = lab.journal().filter { $0["command_id"] as? String == id }
            #expect(calls.count == 1, "gluster was asked to pause \(calls.count) times: \(calls)")

            // The same command sent again (a sender's retry) is answered from the journal: a copy of
            // the first result to the sender, no second result event, no gluster call.
            let sender = try await CommandClient.connect(url: env.amqpURL, source: "georep/tests-retry", topology: lab.topology,
                                                         watchEvents: false, logger: logger)
            let copy = try await sender.run(pause, timeout: 60)
            await sender.close()
            #expect(copy.outcome == .succeeded && copy.commandId == pause.commandId)
            var extra = 0
            while let next = await client.nextEvent(timeout: 2) {
                if case .success(let (_, event)) = next, case .commandResult(let r) = event, r.commandId == pause.commandId { extra += 1 }
            }
            #expect(extra == 0, "a re-sent command published another result event")
            #expect(lab.journal().filter { $0["command_id"] as? String == id }.count == 1)

            // The state rule: resume of a running session is refused, with the reason.
            let start = try await client.run(Command(action: .resume, session: ref, sender: "tests"), timeout: 60)
            #expect(start.outcome == .succeeded, "resume of the paused session: \(start.message)")
            let again = try await client.run(Command(action: .resume, session: ref, sender: "tests"), timeout: 60)
            #expect(again.outcome == .rejected)
            #expect(again.error?.code == "session_not_paused", "\(again.message)")
        }
    }

    /// SIGTERM: the worker stops taking commands, finishes and acks the one in flight, says it
    /// is leaving, and exits 0; what it had not taken is left for the next worker.
    @Test(.timeLimit(.minutes(3)))
    func sigtermFinishesTheCommandInFlightAndExitsZero() async throws {
        // Every gluster call takes 1 s: a create is in flight for several seconds.
        try await withLab(clusters: 1, shards: 2, latency: 1000) { lab, admin, client in
            let worker = try lab.spawnWorkerProcess(monitorInterval: 0, concurrency: 1)
            defer { if worker.isRunning { stop(worker.processIdentifier, signal: SIGKILL) } }
            _ = try await waitForSplit(admin, lab, workers: 1)
            let first = Command(action: .create, session: lab.session(1), sender: "tests")
            try await client.send(first)
            let id = first.commandId.uuidString.lowercased()
            let inFlight = try await eventually(30, every: 0.1) { () -> Bool? in
                lab.journal().contains { $0["command_id"] as? String == id } ? true : nil
            }
            #expect(inFlight == true, "the create never reached gluster")
            worker.terminate()  // SIGTERM
            try await Task.sleep(for: .milliseconds(500))
            // Sent after the signal: not for this worker any more.
            let second = Command(action: .create, session: lab.session(2), sender: "tests")
            try await client.send(second)

            let ended = try await eventually(60, every: 0.2) { worker.isRunning ? nil : true }
            #expect(ended == true, "the worker did not exit within 60 s of SIGTERM")
            #expect(worker.terminationReason == .exit && worker.terminationStatus == 0,
                    "the worker did not exit 0: \(worker.terminationReason == .exit ? "status" : "signal") \(worker.terminationStatus)")

            var results: [UUID: [CommandResult]] = [:]
            while let next = await client.nextEvent(timeout: 3) {
                if case .success(let (_, event)) = next, case .commandResult(let r) = event, let cid = r.commandId { results[cid, default: []].append(r) }
            }
            #expect(results[first.commandId]?.map(\.outcome) == [.succeeded], "the command in flight: \(String(describing: results[first.commandId]))")
            #expect(results[second.commandId] == nil, "a stopping worker took a new command")

            // The next worker gets the second; the first (acked) is not run again.
            let next = try lab.spawnWorker(monitorInterval: 0)
            defer { stop(next, signal: SIGKILL) }
            let later = try await client.waitForResult(of: second.commandId, timeout: 60)
            #expect(later.outcome == .succeeded, "\(later.message)")
            #expect(lab.journal().filter { $0["command_id"] as? String == id }.count == 1, "the acked command ran again")
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func sessionsMadeOutsideTheServiceAreDiscoveredAndTheirDeletionSeen() async throws {
        try await withLab(clusters: 1, shards: 2) { lab, admin, client in
            let worker = try lab.spawnWorker(monitorInterval: 1)
            defer { stop(worker, signal: SIGKILL) }
            let ref = lab.session(7)
            // gluster's own CLI, not the service.
            func standin(_ words: [String]) -> Int32 {
                runCommandCapturing([StandinLab.standin, "--mode=script", "--xml", "volume", "geo-replication", "pvol7", "standin::svol7"] + words,
                                    environment: ["GEOREP_STANDIN_STATE": lab.root.appendingPathComponent(lab.clusters[0]).path,
                                                  "GEOREP_STANDIN_CLUSTER": lab.clusters[0]]).status
            }
            #expect(standin(["create", "push-pem"]) == 0)
            let found = try await eventually(30, every: 0) { () -> SessionSnapshot? in
                guard let next = await client.nextEvent(timeout: 1), case .success(let (_, event)) = next,
                      case .sessionSnapshot(let s) = event, s.sessionId == ref.sessionID else { return nil }
                return s
            }
            #expect(found?.status == .notStarted, "the monitor did not discover the session: \(String(describing: found))")
            #expect(found?.observation.cause == .monitor)
            #expect(found?.options?.isEmpty == false, "a discovered session's snapshot carries its options")

            #expect(standin(["delete"]) == 0)
            let gone = try await eventually(30, every: 0) { () -> SessionDeleted? in
                guard let next = await client.nextEvent(timeout: 1), case .success(let (_, event)) = next,
                      case .sessionDeleted(let d) = event, d.sessionId == ref.sessionID else { return nil }
                return d
            }
            #expect(gone != nil, "no session.deleted after the session vanished")

            // discover on demand answers for the whole cluster.
            #expect(standin(["create", "push-pem"]) == 0)
            let discovered = try await client.run(Command(action: .discover, session: ref, sender: "tests"), timeout: 30)
            #expect(discovered.outcome == .succeeded)
        }
    }

    /// A worker hands a shard over while a long queue stands before its marker: it keeps working
    /// through the queue (longer than the 15 s a silent standby waits) instead of giving up with a
    /// command in its hands; every command is answered, in order.
    @Test(.timeLimit(.minutes(4)))
    func aHandoverBehindALongQueueLosesNoCommand() async throws {
        // Each command takes four gluster calls of 400 ms: 1.6 s; 14 per shard: over 20 s of queue.
        try await withLab(clusters: 1, shards: 2, latency: 400) { lab, admin, client in
            let first = try lab.spawnWorker(monitorInterval: 0, concurrency: 2)
            defer { stop(first, signal: SIGKILL) }
            _ = try #require(try await waitForSplit(admin, lab, workers: 1), "the first worker never took both shards")
            var commands: [Command] = []
            for n in 0..<14 {
                commands.append(Command(action: .create, session: lab.session(n), sender: "tests"))
                commands.append(Command(action: .start, session: lab.session(n), sender: "tests"))
            }
            for command in commands { try await client.send(command) }
            try await Task.sleep(for: .seconds(2))
            let second = try lab.spawnWorker(monitorInterval: 0, concurrency: 2)
            defer { stop(second, signal: SIGKILL) }
            var results: [UUID: CommandResult] = [:]
            let deadline = Date().addingTimeInterval(150)
            while results.count < commands.count && Date() < deadline {
                guard let next = await client.nextEvent(timeout: 1), case .success(let (_, event)) = next,
                      case .commandResult(let r) = event, let id = r.commandId else { continue }
                results[id] = r
            }
            #expect(results.count == commands.count, "\(commands.count - results.count) commands were never answered")
            #expect(results.values.allSatisfy { $0.outcome == .succeeded }, "\(results.values.filter { $0.outcome != .succeeded }.map(\.message))")
            let split = try await waitForSplit(admin, lab, workers: 2)
            #expect(split != nil, "the shards did not end up split between the two workers")
        }
    }
}
}

private actor Latest {
    var beats: [String: WorkerHeartbeat] = [:]
    func add(_ beat: WorkerHeartbeat) { beats[beat.instance] = beat }
}

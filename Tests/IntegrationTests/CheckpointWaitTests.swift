import AMQP
import Foundation
import GeoRepCore
import Logging
import Testing

/// `checkpoint` with `wait` on the stand-in gluster, two `georep worker` processes: the result
/// comes when the checkpoint completed (after a kill of the worker that set it, from the one
/// that took over: exactly one result, to reply_to too), or fails typed when the wait runs out
/// or the session stops; completion and stall are announced once.
extension Integration {
@Suite(.serialized) struct CheckpointWaitTests {
    let env: TestEnvironment
    let logger = TestEnvironment.logger

    init() throws { env = try TestEnvironment.load() }

    /// Events seen by the watching client, in order.
    struct Seen {
        var events: [(header: CloudEventHeader, event: Event)] = []
        func results(_ id: UUID) -> [CommandResult] {
            events.compactMap { if case .commandResult(let r) = $0.event, r.commandId == id { r } else { nil } }
        }
        func completed(_ session: SessionRef) -> [CheckpointCompleted] {
            events.compactMap { if case .checkpointCompleted(let e) = $0.event, e.sessionId == session.sessionID { e } else { nil } }
        }
        func stalled(_ session: SessionRef) -> [CheckpointStalled] {
            events.compactMap { if case .checkpointStalled(let e) = $0.event, e.sessionId == session.sessionID { e } else { nil } }
        }
        func waiting(_ id: UUID) -> [(CloudEventHeader, CommandWaiting)] {
            events.compactMap { if case .commandWaiting(let w) = $0.event, w.commandId == id { ($0.header, w) } else { nil } }
        }
    }

    /// Reads the watching client's events into `seen` until `done` holds or `seconds` pass.
    func pump(_ client: CommandClient, _ seen: inout Seen, seconds: Double, until done: (Seen) -> Bool = { _ in false }) async {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, !done(seen) {
            if let next = await client.nextEvent(timeout: 0.5), case .success(let item) = next { seen.events.append(item) }
        }
    }

    @Test(.timeLimit(.minutes(4)))
    func aWaitedCheckpointAnswersOnceAcrossAKillAndFailsTypedWhenItCannotComplete() async throws {
        let lab = try StandinLab(clusters: 1, shards: 2, env: env)
        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: env.amqpURL), name: "georep checkpoint tests", logger: logger)
        try await admin.open()
        try await admin.declare(lab.topology.topology)
        let client = try await CommandClient.connect(url: env.amqpURL, source: "georep/tests", topology: lab.topology, watchEvents: true,
                                                     logger: logger)
        let waiter = try await CommandClient.connect(url: env.amqpURL, source: "georep/tests-waiter", topology: lab.topology,
                                                     watchEvents: false, logger: logger)
        // A stall is reported after 3 s without brick progress.
        var workers = [try lab.spawnWorker(extra: ["GEOREP_CHECKPOINT_STALL_AFTER": "3"]),
                       try lab.spawnWorker(extra: ["GEOREP_CHECKPOINT_STALL_AFTER": "3"])]
        var failure: Error?
        do {
            var seen = Seen()
            let (slow, stopped, killed) = (lab.session(1), lab.session(2), lab.session(3))
            // The stand-in completes a checkpoint at the session's next change interval: 600 s
            // keeps these from completing until the test shortens it.
            for ref in [slow, stopped, killed] {
                for command in [Command(action: .create, session: ref, sender: "tests"), Command(action: .start, session: ref, sender: "tests"),
                                Command(action: .configSet, session: ref, options: CommandOptions(key: "change-interval", value: "600"), sender: "tests")] {
                    let r = try await client.run(command, timeout: 60) { seen.events.append((CloudEventHeader.none, $0)) }
                    #expect(r.outcome == .succeeded, "\(command.action): \(r.message)")
                }
            }
            try await Task.sleep(for: .seconds(2))  // Initializing → Active (GEOREP_STANDIN_INIT_SECONDS=1)

            // 1. A wait that runs out, and a session stopped under its wait: one typed failure each.
            let expiring = Command(action: .checkpoint, session: slow, options: CommandOptions(wait: 4), sender: "tests")
            let interrupted = Command(action: .checkpoint, session: stopped, options: CommandOptions(wait: 60), sender: "tests")
            let sent = Date()
            try await waiter.send(expiring)
            try await waiter.send(interrupted)
            await pump(client, &seen, seconds: 20) { seen in !seen.waiting(interrupted.commandId).isEmpty && !seen.waiting(expiring.commandId).isEmpty }
            #expect(seen.results(expiring.commandId).isEmpty && seen.results(interrupted.commandId).isEmpty,
                    "a waited checkpoint was answered before its checkpoint completed")
            // A monitor read sees both pending before one of them is stopped.
            await pump(client, &seen, seconds: 2)
            let stopping = try await client.run(Command(action: .stop, session: stopped, sender: "tests"), timeout: 60)
            #expect(stopping.outcome == .succeeded, "the stop ran while the wait was pending (the lane was free): \(stopping.message)")
            // The replies, in whichever order they come (waitForResult would drop the other one).
            var replies: [UUID: (CommandResult, Double)] = [:]
            let replyDeadline = Date().addingTimeInterval(30)
            while replies.count < 2, Date() < replyDeadline {
                if let next = await waiter.nextEvent(timeout: 1), case .success(let (_, event)) = next, case .commandResult(let r) = event,
                   let id = r.commandId {
                    replies[id] = (r, Date().timeIntervalSince(sent))
                }
            }
            let (expired, elapsed) = try #require(replies[expiring.commandId], "no reply for the expiring wait")
            #expect(expired.outcome == .failed && expired.error?.code == "checkpoint_wait_expired", "\(expired.message)")
            #expect(elapsed >= 4 && elapsed < 15, "expired after \(elapsed) s for a wait of 4 s")
            let cut = try #require(replies[interrupted.commandId], "no reply for the interrupted wait").0
            #expect(cut.outcome == .failed && cut.error?.code == "checkpoint_session_not_active", "\(cut.message)")
            await pump(client, &seen, seconds: 6) { seen in !seen.stalled(slow).isEmpty && !seen.stalled(stopped).isEmpty }
            #expect(seen.stalled(slow).map(\.reason) == [.noProgress], "stalls of the slow session: \(seen.stalled(slow))")
            #expect(seen.stalled(stopped).map(\.reason) == [.sessionNotActive], "stalls of the stopped one: \(seen.stalled(stopped))")

            // 2. The worker that set the checkpoint is killed while it is pending; the other one
            //    takes the cluster over and answers the wait when the checkpoint completes.
            let awaited = Command(action: .checkpoint, session: killed, options: CommandOptions(wait: 90), sender: "tests")
            try await waiter.send(awaited)
            await pump(client, &seen, seconds: 20) { seen in !seen.waiting(awaited.commandId).isEmpty }
            let record = try #require(seen.waiting(awaited.commandId).first, "no georep.command.waiting for the checkpoint")
            let owner = try #require(pid_t(record.0.source.split(separator: "/").last ?? ""), "source \(record.0.source)")
            #expect(workers.contains(owner), "the waiting record came from \(record.0.source)")
            #expect(record.1.replyTo != nil)
            stop(owner, signal: SIGKILL)
            workers.removeAll { $0 == owner }
            // The checkpoint can now complete: a shorter change interval restarts the session
            // (the stand-in then completes a checkpoint set before the restart at once).
            let shorter = try await client.run(Command(action: .configSet, session: killed,
                                                       options: CommandOptions(key: "change-interval", value: "2"), sender: "tests"),
                                               timeout: 60) { seen.events.append((CloudEventHeader.none, $0)) }
            #expect(shorter.outcome == .succeeded, "\(shorter.message)")
            let answered = try await waiter.waitForResult(of: awaited.commandId, timeout: 60)
            #expect(answered.outcome == .succeeded, "\(answered.message)")
            await pump(client, &seen, seconds: 30) { seen in !seen.results(awaited.commandId).isEmpty && !seen.completed(killed).isEmpty }
            // Look a while longer for a second result or a second announcement.
            await pump(client, &seen, seconds: 6)
            #expect(seen.results(awaited.commandId).count == 1, "results: \(seen.results(awaited.commandId).map(\.message))")
            let completions = seen.completed(killed)
            #expect(completions.count == 1, "checkpoint.completed events: \(completions)")
            if let completion = completions.first {
                #expect(answered.message.contains(completion.checkpointTime), "\(answered.message) vs \(completion)")
                #expect(completion.activeBricks == 2)
                // The result followed the completion: it names the completion the event announced.
                #expect(answered.message.contains(completion.completedAt ?? "?"))
            }
            #expect(seen.results(expiring.commandId).count == 1 && seen.results(interrupted.commandId).count == 1)
            let sets = lab.journal().filter { $0["command_id"] as? String == awaited.commandId.uuidString.lowercased() }
            #expect(sets.count == 1, "gluster set the checkpoint \(sets.count) times")
        } catch {
            failure = error
        }
        for worker in workers { stop(worker, signal: SIGKILL) }
        await waiter.close()
        await client.close()
        await lab.tearDown(admin)
        await admin.close()
        if let failure { throw failure }
    }
}
}

extension CloudEventHeader {
    /// For events a test saw through ``CommandClient/run`` (which does not hand out headers).
    static var none: CloudEventHeader {
        try! MessageCodec.decoder().decode(CloudEventHeader.self, from: Data(#"{"specversion":"1.0","id":"-","source":"-","type":"-"}"#.utf8))
    }
}

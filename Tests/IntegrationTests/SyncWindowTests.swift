import AMQP
import Foundation
import GeoRepCore
import Logging
import Testing

/// Sync windows on the stand-in gluster with three `georep worker` processes: a window over 50
/// sessions, the cluster's owner killed while it opens them — every session is started,
/// checkpointed and stopped exactly once (the stand-in's record of gluster calls), and opened
/// and completed exactly once (the events); a window too short for its checkpoint is reported
/// missed, with how far the bricks got, and its session stopped.
extension Integration {
@Suite(.serialized) struct SyncWindowTests {
    let env: TestEnvironment
    let logger = TestEnvironment.logger

    init() throws { env = try TestEnvironment.load() }

    @Test(.timeLimit(.minutes(4)))
    func aWindowOverFiftySessionsRunsOnceAcrossAKillAndATooShortOneIsMissed() async throws {
        let lab = try StandinLab(clusters: 1, shards: 2, env: env)
        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: env.amqpURL), name: "georep window tests", logger: logger)
        try await admin.open()
        try await admin.declare(lab.topology.topology)
        let client = try await CommandClient.connect(url: env.amqpURL, source: "georep/tests", topology: lab.topology, watchEvents: true,
                                                     logger: logger)
        var workers = try (0..<3).map { _ in try lab.spawnWorker() }
        var failure: Error?
        do {
            var seen = CheckpointWaitTests.Seen()
            let sessions = (1...50).map { lab.session($0) }
            // pvol0: the owner goes through sessions in key order and opens this one first.
            let short = lab.session(0)
            for ref in sessions {
                let r = try await client.run(Command(action: .create, session: ref, sender: "tests"), timeout: 60)
                #expect(r.outcome == .succeeded, "create \(ref): \(r.message)")
            }
            // The short window's session runs already, with a change interval that keeps a new
            // checkpoint from completing for 10 minutes.
            for command in [Command(action: .create, session: short, sender: "tests"), Command(action: .start, session: short, sender: "tests"),
                            Command(action: .configSet, session: short, options: CommandOptions(key: "change-interval", value: "600"), sender: "tests")] {
                let r = try await client.run(command, timeout: 60)
                #expect(r.outcome == .succeeded, "\(command.action) \(short): \(r.message)")
            }
            try await Task.sleep(for: .seconds(2))  // the short one: Initializing → Active

            let start = Date().addingTimeInterval(15)  // time to send 51 schedules while the lanes also read the cluster
            let window = SyncSchedule.Window(start: start, end: start + 120)
            let tooShort = SyncSchedule.Window(start: start, end: start + 15)
            for (ref, w) in sessions.map({ ($0, window) }) + [(short, tooShort)] {
                let r = try await client.run(Command(action: .schedule, session: ref, options: CommandOptions(schedule: SyncSchedule(windows: [w])),
                                                     sender: "tests"), timeout: 30) { seen.events.append((CloudEventHeader.none, $0)) }
                #expect(r.outcome == .succeeded && r.message.contains("next window"), "schedule \(ref): \(r.message)")
            }
            #expect(Date() < start, "the schedules took too long to send: the test no longer sees a window open")

            // The owner is killed while it opens the window's sessions.
            func opened(_ s: CheckpointWaitTests.Seen) -> [(CloudEventHeader, SyncWindowOpened)] {
                s.events.compactMap { if case .windowOpened(let e) = $0.event { ($0.header, e) } else { nil } }
            }
            func closed(_ s: CheckpointWaitTests.Seen) -> [SyncWindowClosed] {
                s.events.compactMap { if case .windowClosed(let e) = $0.event { e } else { nil } }
            }
            let watch = try CheckpointWaitTests()
            await watch.pump(client, &seen, seconds: 40) { opened($0).count >= 5 }
            let first = try #require(opened(seen).first, "no window opened within 40 s")
            let owner = try #require(pid_t(first.0.source.split(separator: "/").last ?? ""), "source \(first.0.source)")
            #expect(workers.contains(owner))
            stop(owner, signal: SIGKILL)
            workers.removeAll { $0 == owner }
            let openedBeforeKill = Set(opened(seen).map(\.1.sessionId))
            #expect(openedBeforeKill.count < sessions.count, "the owner opened every window before it was killed: nothing was handed over")

            await watch.pump(client, &seen, seconds: 110) { closed($0).count >= sessions.count + 1 }
            await watch.pump(client, &seen, seconds: 5)  // a second opening or closing would come now

            let openings = Dictionary(grouping: opened(seen).map(\.1), by: \.sessionId)
            let twice = Set(openings.filter { $0.value.count > 1 }.keys)
            if !twice.isEmpty {
                // What a second opening looked like, for whoever has to explain it.
                for (header, event) in seen.events {
                    let time = header.time.map(Timestamp.format) ?? "-"
                    if case .windowOpened(let e) = event, twice.contains(e.sessionId) {
                        print("opened \(e.session.primaryVolume) by \(header.source) at \(time) started=\(e.started)")
                    } else if case .windowClosed(let e) = event, twice.contains(e.sessionId) {
                        print("closed \(e.session.primaryVolume) by \(header.source) at \(time) stopped=\(e.stopped)")
                    }
                }
                print("killed \(owner) after \(openedBeforeKill.count) openings")
            }
            let closings = Dictionary(grouping: closed(seen), by: \.sessionId)
            for ref in sessions {
                #expect(openings[ref.sessionID]?.count == 1, "\(ref.primaryVolume) opened \(openings[ref.sessionID]?.count ?? 0) times")
                let outcomes = closings[ref.sessionID]?.map(\.outcome) ?? []
                #expect(outcomes == [.completed], "\(ref.primaryVolume) closed as \(outcomes)")
            }
            let handedOver = opened(seen).filter { !openedBeforeKill.contains($0.1.sessionId) }.map(\.0.source)
            #expect(!handedOver.isEmpty && !handedOver.contains(first.0.source), "windows opened after the kill came from \(Set(handedOver))")

            // gluster's own record: one start, one checkpoint and one stop per session.
            let calls = lab.journal()
            for ref in sessions {
                let mine = calls.filter { ($0["session"] as? String)?.hasPrefix("\(ref.primaryVolume) ") == true }
                let ops = Dictionary(grouping: mine.compactMap { $0["op"] as? String }, by: { $0 }).mapValues(\.count)
                #expect(ops["start"] == 1 && ops["checkpoint"] == 1 && ops["stop"] == 1, "\(ref.primaryVolume): \(ops)")
            }

            // The too-short window: opened without a start (it ran), missed, stopped, with how far it got.
            #expect(openings[short.sessionID]?.map(\.started) == [false])
            let missed = try #require(closings[short.sessionID]?.first, "no window.missed for the too-short window")
            #expect(closings[short.sessionID]?.count == 1)
            #expect(missed.outcome == .missed && missed.stopped, "\(missed)")
            #expect(missed.progress?.state == .pending && missed.progress?.activeBricks == 2, "\(String(describing: missed.progress))")
            #expect(missed.closedAt >= tooShort.end)
            let shortOps = calls.filter { ($0["session"] as? String)?.hasPrefix("\(short.primaryVolume) ") == true }.compactMap { $0["op"] as? String }
            #expect(shortOps.filter { $0 == "stop" }.count == 1 && shortOps.filter { $0 == "start" }.count == 1, "\(shortOps)")
        } catch {
            failure = error
        }
        for worker in workers { stop(worker, signal: SIGKILL) }
        await client.close()
        await lab.tearDown(admin)
        await admin.close()
        if let failure { throw failure }
    }
}
}

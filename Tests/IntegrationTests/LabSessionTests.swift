import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging
import Postgres
import Testing

/// Every action on the real lab through the whole path (RabbitMQ, a worker running the real
/// gluster CLI, the persister, PostgreSQL); a redelivered create and start that gluster's own
/// command history shows ran once; a brick driven Faulty; a session made with the gluster CLI
/// discovered, and its deletion seen.
extension Integration {
@Suite(.serialized) struct LabSessionTests {
    let env: TestEnvironment
    let logger = TestEnvironment.logger

    init() throws { env = try TestEnvironment.load() }

    /// glusterd's record of every CLI command it ran (`cmd_history.log`), from line `from` on.
    static let history = "/var/log/glusterfs/cmd_history.log"
    func historyLines() -> [String] {
        ((try? String(contentsOfFile: Self.history, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// How many times gluster ran `verb` on `ref` since the history had `from` lines.
    func ran(_ verb: String, _ ref: SessionRef, since from: Int) -> Int {
        historyLines().dropFirst(from).filter {
            $0.contains("volume geo-replication \(ref.primaryVolume) \(ref.secondaryHost)::\(ref.secondaryVolume) \(verb)") && $0.hasSuffix("SUCCESS")
        }.count
    }

    /// `authorized_keys` with the bare geo-replication key first (or without it): sshd takes the
    /// first matching line, so gsyncd is sent to /nonexistent/gsyncd and the bricks go Faulty
    /// (the recipe in ../shared/gluster-10.3/README.md).
    func bareKey(_ present: Bool) throws {
        let keys = "/root/.ssh/authorized_keys"
        let bare = try String(contentsOfFile: "/var/lib/glusterd/geo-replication/secret.pem.pub", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var lines = try String(contentsOfFile: keys, encoding: .utf8).split(separator: "\n").map(String.init).filter { $0 != bare }
        if present { lines.insert(bare, at: 0) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: keys, atomically: false, encoding: .utf8)
    }

    @Test(.timeLimit(.minutes(15)))
    func everyActionAFaultyBrickAndASessionMadeByHand() async throws {
        try await InProcessServices.with(env, prefix: "l") { services in try await drive(services) }
    }

    func drive(_ services: InProcessServices) async throws {
        let client = services.client
        let database = services.database
        let inventory = services.inventory
        let topology = services.topology
        let sender = try await CommandClient.connect(url: env.amqpURL, source: "georep/tests-retry", topology: topology, watchEvents: false,
                                                     logger: logger)
        let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: env.labHost, secondaryVolume: "svol3")
        let gluster = GlusterExecutor(inventory: inventory, logger: logger)
        var seen: [Event] = []
        let collect: (Event) -> Void = { seen.append($0) }

        func run(_ action: CommandAction, _ options: CommandOptions = CommandOptions()) async throws -> CommandResult {
            let result = try await client.run(Command(action: action, session: ref, options: options, sender: "tests"), timeout: 180, onEvent: collect)
            #expect(result.outcome == .succeeded, "\(action.rawValue): \(result.message)")
            return result
        }
        func status(_ wanted: Set<String>, seconds: Double = 120) async throws -> String? {
            try await eventually(seconds, every: 1) { () -> String? in
                while let next = await client.nextEvent(timeout: 0.05), case .success(let (_, event)) = next { collect(event) }
                let status = try await sessionRow(database, ref)?["status"] ?? "none"
                return wanted.contains(status) ? status : nil
            }
        }
        func option(_ key: String) async throws -> String? { try await optionValue(database, ref, key) }

        var failure: Error?
        do {
            _ = try await run(.delete, CommandOptions(resetSyncTime: true, stopFirst: true))
            #expect(try await status(["none"], seconds: 30) == "none")
            let mark = historyLines().count

            // create, and the same command again: answered from the journal, gluster not asked twice.
            let create = Command(action: .create, session: ref, options: CommandOptions(force: true), sender: "tests")
            #expect(try await client.run(create, timeout: 180, onEvent: collect).outcome == .succeeded)
            #expect(try await status(["NOTSTARTED"]) == "NOTSTARTED")
            let createCopy = try await sender.run(create, timeout: 60)
            #expect(createCopy.outcome == .succeeded && createCopy.commandId == create.commandId)
            #expect(ran("create", ref, since: mark) == 1, "gluster created the session \(ran("create", ref, since: mark)) times")

            // start, and again: one start in gluster's history; the bricks reach Active.
            let start = Command(action: .start, session: ref, sender: "tests")
            #expect(try await client.run(start, timeout: 180, onEvent: collect).outcome == .succeeded)
            #expect(try await sender.run(start, timeout: 60).outcome == .succeeded)
            #expect(ran("start", ref, since: mark) == 1, "gluster started the session \(ran("start", ref, since: mark)) times")
            #expect(try await status(["ACTIVE"], seconds: 180) == "ACTIVE")

            _ = try await run(.pause)
            #expect(try await status(["PAUSED"], seconds: 60) == "PAUSED")
            _ = try await run(.resume)
            #expect(try await status(["ACTIVE", "INITIALIZING"], seconds: 60) != nil)

            _ = try await run(.configSet, CommandOptions(key: "sync-jobs", value: "5"))
            #expect(try await eventually(30) { try await option("sync_jobs") == "5" ? true : nil } == true, "sync_jobs 5 not stored")
            _ = try await run(.configReset, CommandOptions(key: "sync-jobs"))
            #expect(try await eventually(30) { try await option("sync_jobs") == "3" ? true : nil } == true, "sync_jobs not back to 3")
            _ = try await run(.checkpoint)
            #expect(try await eventually(30) { (try await option("checkpoint")).flatMap(Int.init).map { $0 > 0 } == true ? true : nil } == true,
                    "the checkpoint was not stored")
            _ = try await run(.refresh)
            _ = try await run(.discover)

            // A bad key in front: after a restart the bricks go Faulty, in events and rows.
            try bareKey(true)
            _ = try await run(.stop, CommandOptions(force: true))
            _ = try await run(.start, CommandOptions(force: true))
            let faulty = try await status(["FAULTY", "PARTIAL_FAULTY"], seconds: 120)
            #expect(faulty != nil, "the session never went FAULTY or PARTIAL_FAULTY")
            #expect(try await brickRows(database, ref).contains { $0["status"] == "FAULTY" }, "no brick row is FAULTY")
            // The rows may show it first: another deployment watching the lab (the demo's services,
            // when the tests run after ops/demo.sh) writes the same rows. This worker's events follow.
            let faultyEvents = try await eventually(60, every: 0.5) { () -> Bool? in
                while let next = await client.nextEvent(timeout: 0.05), case .success(let (_, event)) = next { collect(event) }
                let session = seen.contains {
                    if case .sessionStatusChanged(let c) = $0 { return c.sessionId == ref.sessionID && [.faulty, .partialFaulty].contains(c.to) }
                    return false
                }
                let brick = seen.contains {
                    if case .brickStatusChanged(let c) = $0 { return c.sessionId == ref.sessionID && c.to == .faulty }
                    return false
                }
                return session && brick ? true : nil
            }
            #expect(faultyEvents == true, "no session.status_changed to FAULTY or PARTIAL_FAULTY, or no brick.status_changed to FAULTY")
            try bareKey(false)
            _ = try await run(.stop, CommandOptions(force: true))
            _ = try await run(.start)
            #expect(try await status(["ACTIVE"], seconds: 180) == "ACTIVE", "the session did not recover once the key was fixed")

            _ = try await run(.stop)
            #expect(try await status(["STOPPED"], seconds: 60) == "STOPPED")
            _ = try await run(.delete)
            #expect(try await status(["none"], seconds: 30) == "none")

            // Made with the gluster CLI, outside the service: the monitor finds it, then its deletion.
            try await gluster.perform(.create(ref, CommandOptions(force: true)), cluster: "lab")
            #expect(try await status(["NOTSTARTED"], seconds: 60) == "NOTSTARTED", "the session made by hand was not discovered")
            try await gluster.perform(.delete(ref, resetSyncTime: true), cluster: "lab")
            #expect(try await status(["none"], seconds: 60) == "none", "the deletion made by hand was not seen")
        } catch {
            failure = error
        }
        try? bareKey(false)
        _ = try? await gluster.perform(.lifecycle(.stop, ref, force: true), cluster: "lab")
        _ = try? await gluster.perform(.delete(ref, resetSyncTime: true), cluster: "lab")
        await sender.close()
        if let failure { throw failure }
    }
}
}

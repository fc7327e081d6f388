import AMQP
import ArgumentParser
import Foundation
import GeoRepCore
import Logging
import Postgres

/// How soon a fault on the multi-node lab (ops/gluster-pools.sh) shows: the session rvol → s1::srvol
/// is driven Faulty and back `--cycles` times (s1's sshd killed: gsyncd's workers lose their
/// link at once and cannot start again; then started again), once with the primary nodes'
/// webhooks registered and once with polling only (`--interval`, the worker's default 15 s),
/// each fault and each repair at a random point of the monitor's round.
/// Prints p50 and max from the fault to the row in PostgreSQL and to the status event on a
/// subscriber queue, side by side, and the same for the way back to ACTIVE.
struct FreshnessBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freshness",
        abstract: "Fault to row and to event on the multi-node lab: webhooks against polling only.")

    @OptionGroup var broker: BrokerOption
    @Option(help: "Faulty-and-back cycles per mode.") var cycles = 10
    @Option(help: "The workers' monitor interval, seconds (the default of georep worker).") var interval = 15.0
    @Option(help: "The longest wait for one change, seconds.") var patience = 120.0

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let url = try broker.url()
        guard let inventory = environment["GEOREP_POOLS_INVENTORY"], let pgURL = environment["GEOREP_PG_URL"],
              let token = environment["GEOREP_WEBHOOK_TOKENS"]?.split(separator: ",").first.map({ $0.trimmingCharacters(in: .whitespaces) }) else {
            throw ValidationError("source /var/lib/georep/stack.env (GEOREP_POOLS_INVENTORY, GEOREP_PG_URL, GEOREP_WEBHOOK_TOKENS); the multi-node lab comes with ops/stack-up.sh")
        }
        var logger = Logger(label: "georep.bench")
        logger.logLevel = .warning
        let ref = SessionRef(cluster: "pool", primaryVolume: "rvol", secondaryHost: "s1", secondaryVolume: "srvol")
        print("freshness: \(ref), \(cycles) cycles per mode (s1's sshd killed, then started); polling every \(interval) s")
        var figures: [(mode: String, fault: Figures, back: Figures)] = []
        for webhooks in [true, false] {
            let mode = webhooks ? "webhooks + polling" : "polling only"
            let run = try await Mode(ref: ref, url: url, pgURL: pgURL, inventory: inventory, token: token, interval: interval,
                                     webhooks: webhooks, logger: logger)
            let measured = try await BenchSupport.withCleanup({
                try await run.prepare(patience: patience)
                var fault = Figures(), back = Figures()
                for cycle in 1...cycles {
                    // At a random point of the monitor's round: right after a change was seen is
                    // right after a round, which would make every polling figure a full interval.
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0..<Int(interval * 1000))))
                    let (toRow, toEvent) = try await run.change(patience: patience, wanted: [.faulty, .partialFaulty]) {
                        try Lab.pools(["kill", "s1", "sshd"])
                    }
                    fault.add(row: toRow, event: toEvent)
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0..<Int(interval * 1000))))
                    let (backRow, backEvent) = try await run.change(patience: patience, wanted: [.active]) {
                        try Lab.pools(["start", "s1"])
                    }
                    back.add(row: backRow, event: backEvent)
                    print(String(format: "  %@ cycle %d: Faulty row %@ event %@; ACTIVE row %@ event %@", mode, cycle,
                                 Figures.text(toRow), Figures.text(toEvent), Figures.text(backRow), Figures.text(backEvent)))
                }
                return (fault, back)
            }, cleanup: { await run.finish() })
            figures.append((mode, measured.0, measured.1))
        }
        print("")
        print("from the fault (s1's sshd killed) to …          p50      max   (misses: no change within \(Int(patience)) s)")
        for (mode, fault, _) in figures {
            print(String(format: "  %-20@ row in PostgreSQL  %6.2f s %6.2f s  (%d)", mode, fault.p50Row, fault.maxRow, fault.missedRows))
            print(String(format: "  %-20@ event on a queue   %6.2f s %6.2f s  (%d)", mode, fault.p50Event, fault.maxEvent, fault.missedEvents))
        }
        print("from s1's sshd started again to ACTIVE …")
        for (mode, _, back) in figures {
            print(String(format: "  %-20@ row in PostgreSQL  %6.2f s %6.2f s  (%d)", mode, back.p50Row, back.maxRow, back.missedRows))
            print(String(format: "  %-20@ event on a queue   %6.2f s %6.2f s  (%d)", mode, back.p50Event, back.maxEvent, back.missedEvents))
        }
        if let webhooks = figures.first, let polling = figures.last, webhooks.fault.p50Row > 0 {
            print(String(format: "ratio polling / webhooks, p50 fault to row: %.1f×", polling.fault.p50Row / webhooks.fault.p50Row))
        }
    }

    /// The p50 and max of a list of seconds, and how many changes never came.
    struct Figures {
        var rows: [Double] = [], events: [Double] = []
        var missedRows = 0, missedEvents = 0

        mutating func add(row: Double?, event: Double?) {
            if let row { rows.append(row) } else { missedRows += 1 }
            if let event { events.append(event) } else { missedEvents += 1 }
        }

        var p50Row: Double { BenchSupport.quantile(rows, 0.5) }
        var maxRow: Double { rows.max() ?? .nan }
        var p50Event: Double { BenchSupport.quantile(events, 0.5) }
        var maxEvent: Double { events.max() ?? .nan }

        static func text(_ seconds: Double?) -> String { seconds.map { String(format: "%.2f s", $0) } ?? "missed" }
    }

    /// `ops/gluster-pools.sh` of the repository this benchmark was built from.
    enum Lab {
        static let script = BenchSupport.repository.appendingPathComponent("ops/gluster-pools.sh").path

        static func pools(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: script)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw ValidationError("ops/gluster-pools.sh \(arguments.joined(separator: " ")) failed (exit \(process.terminationStatus))")
            }
        }
    }

    /// One mode's services: two `georep worker` processes (webhooks registered or not) and a
    /// `georep persister` on a topology of their own, a subscriber, and a database connection.
    final class Mode: Sendable {
        let ref: SessionRef
        let client: CommandClient
        let database: PGConnection
        let processes: [Process]
        let urls: [String]
        let topology: GeoRepTopology

        init(ref: SessionRef, url: String, pgURL: String, inventory: String, token: String, interval: Double, webhooks: Bool,
             logger: Logger) async throws {
            self.ref = ref
            topology = GeoRepTopology(prefix: "fresh\(UUID().uuidString.prefix(6).lowercased())")
            let georep = try BenchSupport.georepPath()
            var processes: [Process] = []
            var urls: [String] = []
            for i in 0..<2 {
                let port = 9830 + i
                processes.append(try BenchSupport.spawn(georep, ["worker"], [
                    "GEOREP_AMQP_URL": url, "GEOREP_INVENTORY": inventory, "GEOREP_TOPOLOGY_PREFIX": topology.prefix,
                    "GEOREP_SHARDS": String(topology.shards), "GEOREP_MONITOR_INTERVAL": String(interval), "GEOREP_HEARTBEAT_INTERVAL": "0.5",
                    "GEOREP_HTTP": "198.18.0.1:\(port)", "GEOREP_WEBHOOK_TOKENS": token, "GEOREP_LOG_LEVEL": "error",
                ], quiet: true))
                urls.append("http://198.18.0.1:\(port)/webhooks/glusterfs/pool")
            }
            processes.append(try BenchSupport.spawn(georep, ["persister"], [
                "GEOREP_AMQP_URL": url, "GEOREP_PG_URL": pgURL, "GEOREP_TOPOLOGY_PREFIX": topology.prefix, "GEOREP_SHARDS": String(topology.shards),
                "GEOREP_HTTP": "127.0.0.1:0", "GEOREP_LOG_LEVEL": "error",
            ], quiet: true))
            self.processes = processes
            let registered = webhooks ? urls : []
            self.urls = registered
            database = PGConnection(url: pgURL, name: "georep bench freshness", logger: logger)
            do {
                client = try await CommandClient.connect(url: url, source: "georep/bench-freshness", topology: topology, watchEvents: true, logger: logger)
                try await BenchSupport.waitForSplit(workers: 2, topology: topology, url: url, logger: logger)
                for url in registered { try Lab.pools(["webhook", "add", url, token]) }
            } catch {
                // Not yet a mode anyone will finish: its processes must not outlive the run.
                for process in processes where process.isRunning { process.terminate(); process.waitUntilExit() }
                await database.close()
                throw error
            }
        }

        /// The session made and started afresh through the service, and ACTIVE in PostgreSQL.
        func prepare(patience: Double) async throws {
            try? Lab.pools(["start", "s1"])
            removeByHand()
            for action in [CommandAction.create, .start] {
                let result = try await client.run(Command(action: action, session: ref, options: CommandOptions(force: action == .create),
                                                          sender: "georep-bench"), timeout: 180)
                guard result.outcome == .succeeded else { throw ValidationError("\(action.rawValue): \(result.message)") }
            }
            let (row, _) = try await change(patience: patience * 2, wanted: [.active]) {}
            guard row != nil else { throw ValidationError("the session did not become ACTIVE") }
        }

        /// Runs `fault`, then times the row's and the first status event's arrival at one of `wanted`.
        func change(patience: Double, wanted: Set<GeoRepStatus>, _ fault: () throws -> Void) async throws -> (row: Double?, event: Double?) {
            while await client.nextEvent(timeout: 0.05) != nil {}
            let started = ContinuousClock.now
            try fault()
            let words = Set(wanted.map(\.rawValue))
            let ref = self.ref
            let database = self.database
            let rowTask = Task { () -> Double? in
                while ContinuousClock.now - started < .seconds(patience) {
                    let status = try await database.run { (db) throws(PGError) -> String? in
                        try db.execute("SELECT status FROM gluster_georep_session WHERE session_id = $1", [ref.sessionID.uuidString]).rows.first?[0] ?? nil
                    }
                    if let status, words.contains(status) { return BenchSupport.seconds(ContinuousClock.now - started) }
                    try await Task.sleep(for: .milliseconds(50))
                }
                return nil
            }
            var event: Double?
            while event == nil, ContinuousClock.now - started < .seconds(patience) {
                guard let next = await client.nextEvent(timeout: 0.5), case .success(let (_, e)) = next,
                      case .sessionStatusChanged(let change) = e, change.sessionId == ref.sessionID, wanted.contains(change.to) else { continue }
                event = BenchSupport.seconds(ContinuousClock.now - started)
            }
            return (try await rowTask.value, event)
        }

        /// The session stopped and deleted with gluster's CLI on p1, sync time reset (each step
        /// may find nothing to do).
        func removeByHand() {
            for verb in [["stop", "force"], ["delete", "reset-sync-time"]] {
                try? Lab.pools(["exec", "p1", "gluster", "--mode=script", "volume", "geo-replication", ref.primaryVolume,
                                "\(ref.secondaryHost)::\(ref.secondaryVolume)"] + verb)
            }
        }

        func finish() async {
            removeByHand()
            try? Lab.pools(["start", "s1"])
            for url in urls { try? Lab.pools(["webhook", "del", url]) }
            for process in processes where process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            await client.bus.connection.remove(topology.topology)
            await client.close()
            await database.close()
        }
    }
}

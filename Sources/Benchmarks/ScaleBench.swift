import AMQP
import ArgumentParser
import Foundation
import GeoRepCore
import Gluster
import Logging

/// The same stream of commands over many sessions, run by 1, 2 and 4 `georep worker` processes
/// against the stand-in gluster (which answers after a delay, as a remote glusterd does): the
/// throughput of each, and a check that every session's commands took effect in the order sent.
struct ScaleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Commands per second with 1, 2 and 4 workers on the stand-in gluster; checks per-session order.")

    @OptionGroup var broker: BrokerOption
    @Option(help: "Sessions the commands are spread over.") var sessions = 32
    @Option(help: "Clusters the sessions are spread over.") var clusters = 4
    @Option(help: "Command shard queues.") var shards = 16
    @Option(help: "Milliseconds each stand-in gluster call takes (a remote glusterd answers in 100s of ms).") var latency = 200
    @Option(help: "Commands one worker runs at once.") var concurrency = 4
    @Option(help: "Worker counts to measure, comma-separated.") var workers = "1,2,4"

    /// Every session goes through this, each step a real change on the stand-in.
    static let script: [CommandAction] = [.create, .start, .pause, .resume, .configSet, .checkpoint, .stop, .delete]

    func run() async throws {
        let url = try broker.url()
        let counts = workers.split(separator: ",").compactMap { Int($0) }
        var logger = Logger(label: "georep.bench")
        logger.logLevel = .warning
        print("\(sessions * Self.script.count) commands (\(Self.script.map(\.rawValue).joined(separator: " → ")) on each of \(sessions) sessions over \(clusters) clusters), \(shards) shards, stand-in gluster answering in \(latency) ms, \(concurrency) commands at once per worker")
        var baseline: Double?
        var failures = 0
        for count in counts {
            let run = try await measure(workers: count, url: url, logger: logger)
            baseline = baseline ?? run.rate
            failures += run.orderViolations + run.failedCommands
            print(String(format: "  %d worker%@  %7.1f s  %7.1f commands/s  %5.2fx  order violations %d  failed commands %d",
                         count, count == 1 ? " " : "s", run.seconds, run.rate, run.rate / (baseline ?? run.rate), run.orderViolations,
                         run.failedCommands))
        }
        if failures > 0 { throw ExitCode(1) }
    }

    struct Run {
        var seconds: Double
        var rate: Double
        var orderViolations: Int
        var failedCommands: Int
    }

    func measure(workers count: Int, url: String, logger: Logger) async throws -> Run {
        let run = try StandinRun(name: "scale", url: url, clusters: clusters, shards: shards, latency: latency)
        defer { run.removeFiles() }
        let client = try await CommandClient.connect(url: url, source: "georep/bench-scale", topology: run.topology, watchEvents: true, logger: logger)
        let processes = try (0..<count).map { _ in try run.spawnWorker(concurrency: concurrency) }
        defer { for p in processes where p.isRunning { p.terminate(); p.waitUntilExit() } }
        try await BenchSupport.waitForSplit(workers: count, topology: run.topology, url: url, logger: logger)

        let refs = (0..<sessions).map(run.session)
        let commands = Self.commands(for: refs)
        let start = ContinuousClock.now
        let results = try await BenchSupport.runAll(commands, client: client,
                                                    timeout: Double(commands.count) * Double(latency) / 1000 * 6 + 120)
        let seconds = BenchSupport.seconds(ContinuousClock.now - start)
        // Workers first, then their topology (they would complain about a vanished exchange).
        for p in processes where p.isRunning { p.terminate(); p.waitUntilExit() }
        await client.bus.connection.remove(run.topology.topology)
        await client.close()

        // Per session, the stand-in's journal of effective changes must follow the script.
        var violations = 0
        let expected = Self.script.map(\.rawValue).map { $0 == "config.set" ? "config-set" : $0 }
        for id in run.clusters {
            let journal = run.root.appendingPathComponent(id).appendingPathComponent("journal.jsonl")
            let lines = ((try? String(contentsOf: journal, encoding: .utf8)) ?? "").split(separator: "\n")
            var bySession: [String: [String]] = [:]
            for line in lines {
                guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      entry["effective"] as? Bool != false, let session = entry["session"] as? String, let op = entry["op"] as? String else { continue }
                bySession[session, default: []].append(op)
            }
            for ref in refs where ref.cluster == id {
                let ops = bySession["\(ref.primaryVolume) \(ref.secondarySpec)"] ?? []
                if Self.normalize(ops) != expected { violations += 1; print("    \(ref): \(ops)") }
            }
        }
        let failed = commands.count - results.values.filter { $0.outcome == .succeeded }.count
        return Run(seconds: seconds, rate: Double(commands.count) / seconds, orderViolations: violations, failedCommands: failed)
    }

    /// The script on every session, interleaved as an upstream would send it: step k of every
    /// session, then step k+1.
    static func commands(for refs: [SessionRef]) -> [Command] {
        script.enumerated().flatMap { step, action in
            refs.map { ref in
                let options = action == .configSet ? CommandOptions(key: "sync-jobs", value: String(2 + step)) : CommandOptions()
                return Command(action: action, session: ref, options: options, sender: "bench")
            }
        }
    }

    /// The stand-in's op names for config set and checkpoint.
    static func normalize(_ ops: [String]) -> [String] {
        ops.map { op in
            switch op {
            case "config-set", "config_set", "config": "config-set"
            default: op
            }
        }
    }
}

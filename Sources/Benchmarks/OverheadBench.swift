import AMQP
import ArgumentParser
import Foundation
import GeoRepCore
import Logging

/// A worker's own time per command beyond gluster's: one `georep worker` runs a stream of commands
/// on the stand-in gluster and logs, per command, its wall time from taking the delivery to
/// acking it and the time its gluster processes took (`elapsed_ms`, `gluster_ms` on "command
/// done"). The difference is decoding, the state rules, parsing, publishing the events with
/// confirms and acking; gluster's own time in the same run is the baseline it is set against.
struct OverheadBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overhead",
        abstract: "The worker's own time per command beyond gluster's (p50, p99), on the stand-in gluster.")

    @OptionGroup var broker: BrokerOption
    @Option(help: "Sessions; each runs create, start, pause, resume, config set, checkpoint, stop, delete.") var sessions = 50
    @Option(help: "Clusters the sessions are spread over.") var clusters = 4
    @Option(help: "Commands the worker runs at once (1 measures a command alone, without its neighbours' CPU).") var concurrency = 1
    @Option(help: "Milliseconds each stand-in gluster call sleeps (its process start is its own cost too).") var latency = 0
    @Option(help: "The worker's log level (debug shows every gluster call); its JSON log is kept when set.") var workerLogLevel: String?

    func run() async throws {
        let url = try broker.url()
        var logger = Logger(label: "georep.bench")
        logger.logLevel = .warning
        let run = try StandinRun(name: "ovh", url: url, clusters: clusters, shards: 4, latency: latency)
        let log = workerLogLevel == nil ? run.root.appendingPathComponent("worker.log")
            : FileManager.default.temporaryDirectory.appendingPathComponent(run.root.lastPathComponent + ".log")
        defer { run.removeFiles() }
        if workerLogLevel != nil { print("  the worker's log: \(log.path)") }

        let client = try await CommandClient.connect(url: url, source: "georep/bench-overhead", topology: run.topology, watchEvents: true,
                                                     logger: logger)
        let worker = try run.spawnWorker(concurrency: concurrency, logLevel: workerLogLevel ?? "info", json: true, output: log)
        defer { if worker.isRunning { worker.terminate(); worker.waitUntilExit() } }
        try await BenchSupport.waitForSplit(workers: 1, topology: run.topology, url: url, logger: logger)

        let commands = ScaleBench.commands(for: (0..<sessions).map(run.session))
        print("\(commands.count) commands (\(ScaleBench.script.map(\.rawValue).joined(separator: " → ")) on \(sessions) sessions over \(clusters) stand-in clusters), one worker running \(concurrency) at once")
        let started = ContinuousClock.now
        let results = try await BenchSupport.runAll(commands, client: client, timeout: Double(commands.count) + 120)
        let wall = BenchSupport.seconds(ContinuousClock.now - started)
        worker.terminate()
        worker.waitUntilExit()
        await client.bus.connection.remove(run.topology.topology)
        await client.close()

        // The worker's "command done" lines.
        var elapsed: [Double] = [], gluster: [Double] = [], overhead: [Double] = [], calls: [Double] = []
        var byAction: [String: [Double]] = [:]
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], o["message"] as? String == "command done",
                  let e = (o["elapsed_ms"] as? String).flatMap(Double.init), let g = (o["gluster_ms"] as? String).flatMap(Double.init),
                  let c = (o["gluster_calls"] as? String).flatMap(Double.init) else { continue }
            elapsed.append(e)
            gluster.append(g)
            overhead.append(max(0, e - g))
            calls.append(c)
            byAction[o["action"] as? String ?? "?", default: []].append(max(0, e - g))
        }
        let succeeded = results.values.filter { $0.outcome == .succeeded }.count
        print(String(format: "  %d results in %.1f s (%.1f commands/s), %d succeeded; %d \"command done\" lines with timings",
                     results.count, wall, Double(results.count) / wall, succeeded, overhead.count))
        guard !overhead.isEmpty else { throw ValidationError("the worker logged no timings (see \(log.path))") }
        let q = BenchSupport.quantile
        print(String(format: "  per command        p50 %8.2f ms   p99 %8.2f ms   (%.1f gluster calls on average)",
                     q(elapsed, 0.5), q(elapsed, 0.99), calls.reduce(0, +) / Double(calls.count)))
        print(String(format: "  gluster's own time p50 %8.2f ms   p99 %8.2f ms   (baseline)", q(gluster, 0.5), q(gluster, 0.99)))
        print(String(format: "  worker overhead    p50 %8.2f ms   p99 %8.2f ms   max %.2f ms", q(overhead, 0.5), q(overhead, 0.99), overhead.max() ?? 0))
        print(String(format: "  overhead / gluster's time, p50: %.3f", q(overhead, 0.5) / q(gluster, 0.5)))
        for action in byAction.keys.sorted() {
            let values = byAction[action] ?? []
            print(String(format: "    %-11@ overhead p50 %6.2f ms  p99 %6.2f ms  (%d)", action as NSString, q(values, 0.5), q(values, 0.99), values.count))
        }
        let p50 = q(overhead, 0.5), p99 = q(overhead, 0.99)
        print("  targets: p50 < 5 ms \(p50 < 5 ? "met" : "MISSED"), p99 < 20 ms \(p99 < 20 ? "met" : "MISSED")")
        if results.count < commands.count || succeeded < commands.count { throw ExitCode(1) }
    }
}

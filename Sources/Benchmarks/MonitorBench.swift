import AMQP
import ArgumentParser
import Foundation
import GeoRepCore
import Logging
import Synchronization

/// The CPU cost of monitoring: `georep worker` processes watch many running sessions on stand-in
/// clusters (one `status detail` and one `volume info` per cluster per round). Measured from
/// /proc: each worker's own CPU time, and apart from it its gluster processes' (the stand-in's
/// Python start-up, which a real fleet pays on the gluster hosts instead). The baseline is the same
/// workers with monitoring off, measured in the same run.
struct MonitorBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "CPU per worker to monitor many sessions on the stand-in gluster, against idle workers.")

    @OptionGroup var broker: BrokerOption
    @Option(help: "Running sessions to monitor.") var sessions = 1000
    @Option(help: "Clusters they are spread over (the monitor reads a cluster with one status call).") var clusters = 20
    @Option(help: "Workers sharing the clusters.") var workers = 2
    @Option(help: "Seconds between two rounds (GEOREP_MONITOR_INTERVAL).") var interval: Double = 60
    @Option(help: "Rounds measured after the first (which also reads every session's options).") var rounds = 3

    func run() async throws {
        let url = try broker.url()
        var logger = Logger(label: "georep.bench")
        logger.logLevel = .warning
        let run = try StandinRun(name: "mon", url: url, clusters: clusters, shards: 16, latency: 0)
        let topology = run.topology
        defer { run.removeFiles() }
        print("monitor: \(sessions) running sessions over \(clusters) stand-in clusters, \(workers) workers, a round every \(Int(interval)) s")

        // Running sessions, made with the stand-in's own CLI (as an operator would with gluster's).
        let seedStart = ContinuousClock.now
        let perCluster = Dictionary(grouping: 0..<sessions) { $0 % clusters }
        let seedFailures = Counter()
        DispatchQueue.concurrentPerform(iterations: clusters) { c in
            let env = ["GEOREP_STANDIN_STATE": run.root.appendingPathComponent(run.clusters[c]).path, "GEOREP_STANDIN_CLUSTER": run.clusters[c],
                       "GEOREP_STANDIN_INIT_SECONDS": "0"]
            for n in perCluster[c] ?? [] {
                for words in [["create", "push-pem"], ["start"]] {
                    let p = try? BenchSupport.spawn(run.standin, ["--mode=script", "--xml", "volume", "geo-replication", "pvol\(n)", "standin::svol\(n)"] + words,
                                                    env, quiet: true)
                    p?.waitUntilExit()
                    if p?.terminationStatus != 0 { seedFailures.add() }
                }
            }
        }
        guard seedFailures.value == 0 else { throw ValidationError("\(seedFailures.value) stand-in calls failed while making the sessions") }
        print(String(format: "  made %d running sessions in %.1f s", sessions, BenchSupport.seconds(ContinuousClock.now - seedStart)))

        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: url), name: "georep bench monitor", logger: logger)
        try await admin.open()
        try await admin.declare(topology.topology)
        try await BenchSupport.withCleanup {
            try await measure(admin: admin, run: run, url: url, logger: logger)
        } cleanup: {
            await admin.remove(topology.topology)
            await admin.close()
        }
    }

    /// Idle workers, then monitoring ones, on `run`'s stand-in clusters; `admin` has declared the topology.
    private func measure(admin: AMQPConnection, run: StandinRun, url: String, logger: Logger) async throws {
        let topology = run.topology
        // Heartbeats at the default interval: the baseline is what an idle worker costs in production.
        func spawnWorkers(monitor: Bool) throws -> [Process] {
            try (0..<workers).map { _ in try run.spawnWorker(monitorInterval: monitor ? interval : 0, heartbeat: 2) }
        }
        func stopAll(_ processes: [Process]) { for p in processes where p.isRunning { p.terminate(); p.waitUntilExit() } }

        // Baseline: the same workers, monitoring off, for one interval.
        let idle = try spawnWorkers(monitor: false)
        try await BenchSupport.waitForSplit(workers: workers, topology: topology, url: url, logger: logger)
        let idleBefore = idle.map { CPUTimes(pid: $0.processIdentifier) }
        let idleStart = ContinuousClock.now
        try await Task.sleep(for: .seconds(interval))
        let idleSeconds = BenchSupport.seconds(ContinuousClock.now - idleStart)
        let idleShares = zip(idle, idleBefore).map { CPUTimes(pid: $0.processIdentifier).own - $1.own }.map { $0 / idleSeconds }
        stopAll(idle)

        // Monitoring: the first round discovers every session (and reads its options); then steady rounds.
        let events = try await admin.declareTemporaryQueue(bindings: [(topology.eventsExchange, "#")])
        let stream = try await admin.consume(queues: [events], prefetch: 500)
        let tally = Tally()
        let pump = Task {
            for try await delivery in stream {
                await tally.add(delivery.properties.type ?? "?", body: delivery.body)
                try await admin.ack(delivery)
            }
        }
        let fleet = try spawnWorkers(monitor: true)
        defer { stopAll(fleet) }
        let firstStart = ContinuousClock.now
        let start = fleet.map { CPUTimes(pid: $0.processIdentifier) }
        while await tally.snapshotted < sessions {
            try await Task.sleep(for: .milliseconds(200))
            if BenchSupport.seconds(ContinuousClock.now - firstStart) > 600 {
                throw ValidationError("only \(await tally.snapshotted) of \(sessions) sessions were discovered in 600 s")
            }
        }
        // Its events still arriving: the round is over when they stop.
        var quiet = await tally.total
        repeat { quiet = await tally.total; try await Task.sleep(for: .seconds(1)) } while await tally.total != quiet
        let firstSeconds = BenchSupport.seconds(ContinuousClock.now - firstStart)
        let afterFirst = fleet.map { CPUTimes(pid: $0.processIdentifier) }
        print(String(format: "  first round (discovery, every session's options read): %.1f s; CPU own %@, gluster processes %@",
                     firstSeconds, seconds(zip(afterFirst, start).map { $0.own - $1.own }), seconds(zip(afterFirst, start).map { $0.children - $1.children })))

        await tally.reset()
        let steadyStart = ContinuousClock.now
        try await Task.sleep(for: .seconds(interval * Double(rounds)))
        let steadySeconds = BenchSupport.seconds(ContinuousClock.now - steadyStart)
        let end = fleet.map { CPUTimes(pid: $0.processIdentifier) }
        let rss = fleet.map { CPUTimes.rssMiB(pid: $0.processIdentifier) }
        pump.cancel()
        let own = zip(end, afterFirst).map { ($0.own - $1.own) / steadySeconds }
        let children = zip(end, afterFirst).map { ($0.children - $1.children) / steadySeconds }
        let firstOwn = zip(afterFirst, start).map { $0.own - $1.own }
        print(String(format: "  %d steady rounds over %.0f s; events published meanwhile: %@", rounds, steadySeconds, await tally.summary))
        for i in 0..<workers {
            // A full snapshot (every session's options read again) every 20 rounds, as by default.
            let amortized = (own[i] * steadySeconds / Double(rounds) * 19 + firstOwn[i]) / 20 / interval
            // /proc counts in 10 ms ticks: a short idle window may show none.
            let ratio = idleShares[i] > 0 ? String(format: "%.1fx", own[i] / idleShares[i]) : "below a tick"
            print(String(format: "  worker %d: own CPU %.2f%% of a core (idle baseline %.2f%%, %@); with the snapshot round every 20: %.2f%%; its gluster processes %.2f%%; RSS %.0f MiB",
                         i + 1, own[i] * 100, idleShares[i] * 100, ratio, amortized * 100, children[i] * 100, rss[i]))
        }
        let worst = own.max() ?? 0
        print("  target: < 25% of a core per worker \(worst < 0.25 ? "met" : "MISSED") (highest \(String(format: "%.2f", worst * 100))%)")
    }

    func seconds(_ values: [Double]) -> String { values.map { String(format: "%.2f s", $0) }.joined(separator: " / ") }
}

/// A process's CPU seconds from /proc: its own (user + system), and its reaped children's.
struct CPUTimes {
    var own: Double
    var children: Double

    init(pid: Int32) {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // Fields after "pid (comm) ": state is the 3rd; utime, stime, cutime, cstime the 14th to 17th.
        let rest = stat.split(separator: ")").last.map { $0.split(separator: " ") } ?? []
        let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
        func field(_ n: Int) -> Double { rest.count > n - 3 ? (Double(rest[n - 3]) ?? 0) / tick : 0 }
        own = field(14) + field(15)
        children = field(16) + field(17)
    }

    static func rssMiB(pid: Int32) -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return (line?.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0) / 1024
    }
}

/// Events seen, by type; sessions that had a snapshot.
actor Tally {
    private var byType: [String: Int] = [:]
    private var sessionsSeen = Set<String>()

    func add(_ type: String, body: [UInt8]) {
        byType[type, default: 0] += 1
        if type == "georep.session.snapshot", let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            let data = o["data"] as? [String: Any] ?? o
            if let id = data["session_id"] as? String { sessionsSeen.insert(id) }
        }
    }

    var snapshotted: Int { sessionsSeen.count }
    var total: Int { byType.values.reduce(0, +) }
    func reset() { byType = [:] }
    var summary: String { byType.isEmpty ? "none" : byType.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
}

/// A count several threads add to.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

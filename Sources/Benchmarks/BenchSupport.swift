import AMQP
import ArgumentParser
import Foundation
import GeoRepCore
import Gluster
import Logging

/// What the benchmarks that run `georep worker` processes on stand-in clusters share.
enum BenchSupport {
    /// `georep` beside this benchmark's executable.
    static func georepPath() throws -> String {
        let path = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("georep").path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw ValidationError("\(path) is missing: build it first (swift build -c release)") }
        return path
    }

    /// The repository this benchmark was built from (its ops/ scripts and the stand-in).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `ops/standin/gluster` of the repository this benchmark was built from.
    static func standinPath() throws -> String {
        let path = repository.appendingPathComponent("ops/standin/gluster").path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw ValidationError("\(path) is missing") }
        return path
    }

    /// Runs `body`, then `cleanup` whether `body` returned or threw: the `defer` that cannot
    /// await (a `Task` started in a `defer` would outlive the run it cleans up after).
    static func withCleanup<T>(_ body: () async throws -> T, cleanup: () async -> Void) async throws -> T {
        let result: T
        do { result = try await body() } catch {
            await cleanup()
            throw error
        }
        await cleanup()
        return result
    }

    /// Clusters of the stand-in, each with a state directory under `root`, and their inventory file.
    static func standinInventory(root: URL, clusters: [String], latency: Int) throws -> String {
        let inventory = Inventory(clusters: clusters.map { id in
            // Each stand-in cluster is its own "glusterd": its own host name, so that the per-host turns
            // (HostLock) do not serialise clusters that real life would keep on different hosts.
            Inventory.Cluster(id: id, hosts: [Inventory.Host(name: "standin-\(id)", transport: .local, environment: [
                "GEOREP_STANDIN_STATE=\(root.appendingPathComponent(id).path)", "GEOREP_STANDIN_CLUSTER=\(id)", "GEOREP_STANDIN_LATENCY_MS=\(latency)",
                "GEOREP_STANDIN_INIT_SECONDS=0",
            ])])
        })
        for id in clusters { try FileManager.default.createDirectory(at: root.appendingPathComponent(id), withIntermediateDirectories: true) }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let path = root.appendingPathComponent("inventory.json").path
        try encoder.encode(inventory).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Starts a process with `environment` added to this one's; output to the file `output` (else
    /// inherited, or discarded when `quiet`).
    static func spawn(_ path: String, _ arguments: [String], _ environment: [String: String], output: URL? = nil,
                      quiet: Bool = false) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let output {
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            let handle = try FileHandle(forWritingTo: output)
            process.standardOutput = handle
            process.standardError = handle
        } else if quiet {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    /// Waits until the workers' heartbeats split every shard among `workers` of them.
    static func waitForSplit(workers: Int, topology: GeoRepTopology, url: String, logger: Logger) async throws {
        let reader = AMQPConnection(configuration: try AMQPConfiguration(url: url), name: "georep bench heartbeats", logger: logger)
        try await reader.open()
        let queue = try await reader.declareTemporaryQueue(bindings: [(topology.membershipExchange, "")])
        var latest: [String: [Int]] = [:]
        let deadline = Date().addingTimeInterval(60)
        for try await delivery in try await reader.consume(queues: [queue], prefetch: 100) {
            try await reader.ack(delivery)
            if let beat = try? MessageCodec.decoder().decode(WorkerHeartbeat.self, from: Data(delivery.body)), beat.leaving != true {
                latest[beat.instance] = beat.shards
            }
            let all = latest.values.flatMap { $0 }
            if latest.count == workers && latest.values.allSatisfy({ !$0.isEmpty }) && Set(all) == Set(0..<topology.shards) && all.count == topology.shards { break }
            if Date() > deadline { throw ValidationError("\(workers) workers did not split the shards within 60 s") }
        }
        await reader.close()
    }

    /// Publishes `commands` in lots of 200, then gathers their results from `client` (which
    /// watches the events) until every one has one or `timeout` seconds pass.
    static func runAll(_ commands: [Command], client: CommandClient, timeout: Double) async throws -> [UUID: CommandResult] {
        for start in stride(from: 0, to: commands.count, by: 200) {
            let lot = commands[start..<min(start + 200, commands.count)]
            try await client.bus.connection.publish(try lot.map { try client.bus.message($0) })
        }
        var results: [UUID: CommandResult] = [:]
        let deadline = Date().addingTimeInterval(timeout)
        while results.count < commands.count && Date() < deadline {
            guard let next = await client.nextEvent(timeout: 1), case .success(let (_, event)) = next,
                  case .commandResult(let r) = event, let id = r.commandId else { continue }
            results[id] = r
        }
        return results
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    /// The `q` quantile (0…1) of `values`, nearest rank.
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }
}

/// One benchmark run's own stand-in clusters (state under a temporary directory) and topology,
/// and the `georep worker` processes it starts on them.
struct StandinRun {
    let url: String
    let georep: String
    let standin: String
    let topology: GeoRepTopology
    let root: URL
    let clusters: [String]
    let inventory: String

    /// `name` prefixes the topology, the clusters and the directory, to tell runs apart.
    init(name: String, url: String, clusters count: Int, shards: Int, latency: Int) throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        self.url = url
        georep = try BenchSupport.georepPath()
        standin = try BenchSupport.standinPath()
        topology = GeoRepTopology(shards: shards, prefix: "\(name)\(tag)")
        root = FileManager.default.temporaryDirectory.appendingPathComponent("georep-\(name)-\(tag)")
        clusters = (0..<count).map { "\(name)\(tag)-\($0)" }
        inventory = try BenchSupport.standinInventory(root: root, clusters: clusters, latency: latency)
    }

    /// Session `n`: `pvolN → standin::svolN` on cluster `n` modulo the cluster count.
    func session(_ n: Int) -> SessionRef {
        SessionRef(cluster: clusters[n % clusters.count], primaryVolume: "pvol\(n)", secondaryHost: "standin", secondaryVolume: "svol\(n)")
    }

    /// Starts a `georep worker` on the run's clusters and topology; `monitorInterval` 0 turns
    /// monitoring off; a short `heartbeat` makes the workers split the shards sooner.
    func spawnWorker(monitorInterval: Double = 0, concurrency: Int = 4, heartbeat: Double = 0.5, logLevel: String = "warning",
                     json: Bool = false, output: URL? = nil) throws -> Process {
        var environment = [
            "GEOREP_AMQP_URL": url, "GEOREP_INVENTORY": inventory, "GEOREP_GLUSTER": standin, "GEOREP_CHECKPOINT_TOUCH": "false", "GEOREP_TOPOLOGY_PREFIX": topology.prefix,
            "GEOREP_SHARDS": String(topology.shards), "GEOREP_MONITOR_INTERVAL": monitorInterval == 0 ? "0" : String(monitorInterval),
            "GEOREP_WORKER_CONCURRENCY": String(concurrency), "GEOREP_HEARTBEAT_INTERVAL": String(heartbeat), "GEOREP_HTTP": "127.0.0.1:0",
            "GEOREP_LOG_LEVEL": logLevel,
        ]
        if json { environment["GEOREP_LOG_FORMAT"] = "json" }
        return try BenchSupport.spawn(georep, ["worker"], environment, output: output)
    }

    func removeFiles() { try? FileManager.default.removeItem(at: root) }
}

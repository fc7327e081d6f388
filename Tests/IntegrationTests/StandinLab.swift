import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging
import Postgres

/// A fleet of clusters served by the stand-in gluster (`ops/standin/gluster`), each with its own
/// state directory, on a RabbitMQ topology of the test's own: for tests of several worker
/// processes, kills and scale, where the single real lab would be the bottleneck.
struct StandinLab {
    let root: URL
    let clusters: [String]
    let topology: GeoRepTopology
    let inventoryPath: String
    let env: TestEnvironment

    static var repository: URL {
        URL(fileURLWithPath: TestEnvironment.schemasDirectory).deletingLastPathComponent().deletingLastPathComponent()
    }

    static var standin: String { repository.appendingPathComponent("ops/standin/gluster").path }

    init(clusters count: Int, shards: Int, env: TestEnvironment, latencyMilliseconds: Int = 0) throws {
        self.env = env
        let tag = UUID().uuidString.prefix(8).lowercased()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("georep-standin-\(tag)")
        self.root = root
        clusters = (0..<count).map { "sa\(tag)-\($0)" }
        topology = GeoRepTopology(shards: shards, prefix: "w\(tag)")
        let inventory = Inventory(clusters: clusters.map { cluster in
            // Each stand-in cluster its own host name: the per-host turns (HostLock) must not serialise clusters.
            Inventory.Cluster(id: cluster, hosts: [Inventory.Host(name: "standin-\(cluster)", transport: .local, environment: [
                "GEOREP_STANDIN_STATE=\(root.appendingPathComponent(cluster).path)", "GEOREP_STANDIN_CLUSTER=\(cluster)",
                "GEOREP_STANDIN_LATENCY_MS=\(latencyMilliseconds)",
                "GEOREP_STANDIN_INIT_SECONDS=1",
            ])])
        })
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for cluster in clusters {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(cluster), withIntermediateDirectories: true)
        }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        inventoryPath = root.appendingPathComponent("inventory.json").path
        try encoder.encode(inventory).write(to: URL(fileURLWithPath: inventoryPath))
    }

    func session(_ n: Int, cluster: Int = 0) -> SessionRef {
        SessionRef(cluster: clusters[cluster], primaryVolume: "pvol\(n)", secondaryHost: "standin", secondaryVolume: "svol\(n)")
    }

    /// Starts `georep worker` on this lab; returns its pid.
    func spawnWorker(monitorInterval: Double = 1, concurrency: Int = 4, extra: [String: String] = [:]) throws -> pid_t {
        try spawnWorkerProcess(monitorInterval: monitorInterval, concurrency: concurrency, extra: extra).processIdentifier
    }

    func spawnWorkerProcess(monitorInterval: Double = 1, concurrency: Int = 4, extra: [String: String] = [:]) throws -> Process {
        try spawnGeorepProcess(["worker"], environment: [
            "GEOREP_AMQP_URL": env.amqpURL, "GEOREP_INVENTORY": inventoryPath, "GEOREP_GLUSTER": Self.standin, "GEOREP_CHECKPOINT_TOUCH": "false",
            "GEOREP_TOPOLOGY_PREFIX": topology.prefix, "GEOREP_SHARDS": String(topology.shards),
            "GEOREP_MONITOR_INTERVAL": String(monitorInterval), "GEOREP_HEARTBEAT_INTERVAL": "0.5",
            "GEOREP_WORKER_CONCURRENCY": String(concurrency),
            // GEOREP_TEST_WORKER_LOG_LEVEL=info shows what the workers did, when a test needs explaining.
            "GEOREP_LOG_LEVEL": ProcessInfo.processInfo.environment["GEOREP_TEST_WORKER_LOG_LEVEL"] ?? "warning",
        ].merging(extra) { $1 })
    }

    /// Makes the stand-in's auto volumes exist in a cluster's state now (it creates them on first
    /// mention), so that `volume info` lists them before any session names them.
    func touchVolumes(_ names: [String], cluster: Int = 0) {
        for name in names {
            _ = runCommandCapturing([Self.standin, "--mode=script", "--xml", "volume", "info", name],
                                    environment: ["GEOREP_STANDIN_STATE": root.appendingPathComponent(clusters[cluster]).path,
                                                  "GEOREP_STANDIN_CLUSTER": clusters[cluster]])
        }
    }

    /// The stand-in's journal of one cluster: every state-changing gluster call.
    func journal(cluster: Int = 0) -> [[String: Any]] {
        let file = root.appendingPathComponent(clusters[cluster]).appendingPathComponent("journal.jsonl")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Removes the topology and the state directory.
    func tearDown(_ admin: AMQPConnection) async {
        await admin.remove(topology.topology)
        try? FileManager.default.removeItem(at: root)
    }

    /// A one-cluster lab with its topology declared through an admin connection, and a
    /// PostgreSQL connection (migrated unless `migrate` is false): how the API's tests begin.
    /// End with ``tearDown(_:database:)`` and `admin.close()`.
    static func withDatabase(_ env: TestEnvironment, name: String, migrate: Bool = true) async throws
        -> (lab: StandinLab, admin: AMQPConnection, database: PGConnection) {
        let lab = try StandinLab(clusters: 1, shards: 2, env: env)
        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: env.amqpURL), name: "georep \(name)", logger: TestEnvironment.logger)
        try await admin.open()
        try await admin.declare(lab.topology.topology)
        let database = PGConnection(url: env.postgresURL, name: name, logger: TestEnvironment.logger)
        if migrate { _ = try await Migrator(directory: TestEnvironment.schemasDirectory, logger: TestEnvironment.logger).migrate(database) }
        return (lab, admin, database)
    }

    /// ``tearDown(_:)``, and the rows the lab's clusters left in PostgreSQL (commands, schedules
    /// and windows, sessions, volumes, the clusters); then closes `database`. A failure to delete is printed, not thrown:
    /// the test's own outcome is what the caller reports.
    func tearDown(_ admin: AMQPConnection, database: PGConnection) async {
        await tearDown(admin)
        for cluster in clusters {
            do {
                try await database.run { (db) throws(PGError) in
                    try db.execute("DELETE FROM georep_commands WHERE session_ref LIKE $1", ["\(cluster)/%"])
                    try db.execute("DELETE FROM georep_session_schedules WHERE session_ref LIKE $1", ["\(cluster)/%"])
                    try db.execute("DELETE FROM georep_session_windows WHERE session_id IN (SELECT session_id FROM gluster_georep_session WHERE cluster_id = $1)",
                                   [cluster])
                    try db.execute("DELETE FROM gluster_georep_session WHERE cluster_id = $1", [cluster])
                    try db.execute("DELETE FROM gluster_volumes WHERE cluster_id = $1", [cluster])
                    try db.execute("DELETE FROM gluster_clusters WHERE cluster_id = $1", [cluster])
                }
            } catch {
                print("could not remove the rows of cluster \(cluster): \(error)")
            }
        }
        await database.close()
    }
}

/// Stops a spawned process: SIGKILL or SIGTERM, and reaps it.
func stop(_ pid: pid_t, signal: Int32 = SIGTERM) {
    kill(pid, signal)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
}

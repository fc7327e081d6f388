import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging
import Testing

/// Several `georep worker` processes with a 1 s monitor interval on the real lab while creates,
/// config changes and deletes run on one cluster: every gluster call the workers make is traced
/// (start and end, by a wrapper around the real CLI), and no change may overlap any other call.
/// That is what kept the lab's glusterd from wedging (docs/reliability.md, "Lock units").
extension Integration {
@Suite(.serialized) struct ClusterExclusivityTests {
    let env: TestEnvironment
    let logger = TestEnvironment.logger

    init() throws { env = try TestEnvironment.load() }

    /// One traced gluster call.
    struct Call {
        var start: Double
        var end: Double
        var exitCode: Int
        var words: [String]

        /// The same classification as ``GlusterOperation``, read back from the words the tracer saw.
        var changes: Bool {
            let rest = Array(words.drop { $0.hasPrefix("--") })
            guard rest.starts(with: ["volume", "geo-replication"]), rest.count >= 5 else { return false }
            let verb = Array(rest.dropFirst(4))
            if verb.first == "config" { return verb.count > 1 }
            return ["create", "start", "stop", "pause", "resume", "delete"].contains(verb.first ?? "")
        }

        func overlaps(_ other: Call) -> Bool { start < other.end && other.start < end }
    }

    /// A wrapper that runs the real gluster and appends "start end exit words…" for each call.
    static let tracer = """
        #!/usr/bin/env python3
        import fcntl, os, subprocess, sys, time
        start = time.time()
        rc = subprocess.call(["/usr/sbin/gluster"] + sys.argv[1:])
        with open(os.environ["GEOREP_TRACE_LOG"], "a") as log:
            fcntl.flock(log, fcntl.LOCK_EX)
            log.write("%.6f %.6f %d %s\\n" % (start, time.time(), rc, " ".join(sys.argv[1:])))
        sys.exit(rc)
        """

    @Test(.timeLimit(.minutes(10)), arguments: [2, 3])
    func changesNeverOverlapAnyOtherCall(workers: Int) async throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("georep-exclusive-\(tag)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let tracer = root.appendingPathComponent("gluster")
        try Self.tracer.write(to: tracer, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tracer.path)
        let trace = root.appendingPathComponent("trace.log")
        let lab = try Inventory.load(path: env.inventoryPath)
        let inventory = Inventory(clusters: [Inventory.Cluster(id: "lab", hosts: [
            Inventory.Host(name: env.labHost, transport: .local, environment: ["GEOREP_TRACE_LOG=\(trace.path)"], gluster: tracer.path),
        ])], ssh: lab.ssh)
        let inventoryPath = root.appendingPathComponent("inventory.json").path
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try encoder.encode(inventory).write(to: URL(fileURLWithPath: inventoryPath))
        let topology = GeoRepTopology(shards: 4, prefix: "x\(tag)")

        let sessions = ["svol2", "svol3"].map { SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: env.labHost, secondaryVolume: $0) }
        let gluster = GlusterExecutor(inventory: lab, logger: logger)
        for ref in sessions {  // a clean slate: earlier runs may have left them
            do { try await gluster.perform(.lifecycle(.stop, ref, force: true), cluster: "lab") } catch { logger.debug("clean slate: \(error)") }
            do { try await gluster.perform(.delete(ref, resetSyncTime: true), cluster: "lab") } catch { logger.debug("clean slate: \(error)") }
        }

        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: env.amqpURL), name: "georep exclusivity tests", logger: logger)
        try await admin.open()
        try await admin.declare(topology.topology)
        let client = try await CommandClient.connect(url: env.amqpURL, source: "georep/tests", topology: topology, watchEvents: true, logger: logger)
        var processes: [Process] = []
        var failure: Error?
        do {
            for _ in 0..<workers {
                processes.append(try spawnGeorepProcess(["worker"], environment: [
                    "GEOREP_AMQP_URL": env.amqpURL, "GEOREP_INVENTORY": inventoryPath, "GEOREP_TOPOLOGY_PREFIX": topology.prefix,
                    "GEOREP_SHARDS": "4", "GEOREP_MONITOR_INTERVAL": "1", "GEOREP_HEARTBEAT_INTERVAL": "0.5",
                ]))
            }
            try await Task.sleep(for: .seconds(3))  // the workers split the shards and start ticking
            let history = (try? String(contentsOfFile: "/var/log/glusterfs/cmd_history.log", encoding: .utf8))?.split(separator: "\n").count ?? 0

            // Every session's commands at once; they reach the one shard of cluster "lab" in order.
            var commands: [Command] = []
            for ref in sessions {
                commands += [
                    Command(action: .create, session: ref, options: CommandOptions(force: true), sender: "tests"),
                    Command(action: .configSet, session: ref, options: CommandOptions(key: "sync-jobs", value: "5"), sender: "tests"),
                    Command(action: .configReset, session: ref, options: CommandOptions(key: "sync-jobs"), sender: "tests"),
                    Command(action: .delete, session: ref, sender: "tests"),
                ]
            }
            for command in commands { try await client.send(command) }
            for command in commands {
                let result = try await client.waitForResult(of: command.commandId, timeout: 240)
                #expect(result.outcome == .succeeded, "\(command.action.rawValue) \(command.session.secondaryVolume): \(result.message)")
            }
            try await Task.sleep(for: .seconds(3))  // a few more monitor rounds after the last change

            let calls = ((try? String(contentsOf: trace, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line -> Call? in
                let f = line.split(separator: " ").map(String.init)
                guard f.count > 3, let s = Double(f[0]), let e = Double(f[1]), let rc = Int(f[2]) else { return nil }
                return Call(start: s, end: e, exitCode: rc, words: Array(f[3...]))
            }
            let changes = calls.filter(\.changes)
            let reads = calls.filter { !$0.changes }
            print("exclusivity with \(workers) workers: \(calls.count) gluster calls traced, \(changes.count) changes, \(reads.count) reads")
            #expect(changes.count >= commands.count, "every create, config change and delete ran through the tracer")
            #expect(reads.filter { $0.words.contains("status") }.count >= 5, "the monitor kept reading the cluster meanwhile")
            var overlaps: [String] = []
            for (i, change) in calls.enumerated() where change.changes {
                for (j, other) in calls.enumerated() where i != j && change.overlaps(other) {
                    overlaps.append("\(change.words.suffix(4).joined(separator: " ")) overlapped \(other.words.suffix(4).joined(separator: " "))")
                }
            }
            #expect(overlaps.isEmpty, "changes overlapped other calls: \(overlaps.prefix(5))")

            // glusterd's own record: each session created and deleted once, successfully.
            let lines = ((try? String(contentsOfFile: "/var/log/glusterfs/cmd_history.log", encoding: .utf8)) ?? "")
                .split(separator: "\n").dropFirst(history)
            for ref in sessions {
                for verb in ["create", "delete"] {
                    let n = lines.filter { $0.contains("geo-replication mvol \(ref.secondaryHost)::\(ref.secondaryVolume) \(verb)") && $0.hasSuffix("SUCCESS") }.count
                    #expect(n == 1, "cmd_history.log: \(verb) of \(ref.secondaryVolume) \(n) times")
                }
            }
        } catch { failure = error }
        for process in processes where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        await client.close()
        await admin.remove(topology.topology)
        await admin.close()
        if let failure { throw failure }
    }
}
}

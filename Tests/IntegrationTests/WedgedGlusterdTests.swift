import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging
import Testing

/// The lab's glusterd wedged on purpose in the middle of a `create push-pem` (its gverify.sh and
/// glusterd itself stopped with SIGSTOP, as the 13-minute stall looked from outside): the worker
/// says why (`georep.cluster.unavailable` naming gverify.sh, the metric), fails the lab's
/// commands with a typed error instead of looping through timeouts, keeps serving another
/// cluster on the same shard meanwhile, and announces the recovery.
extension Integration {
@Suite(.serialized) struct WedgedGlusterdTests {
    let env: TestEnvironment
    let logger = TestEnvironment.logger

    init() throws { env = try TestEnvironment.load() }

    /// The pids whose command line contains `needle` (read from /proc, no `ps` needed), in this
    /// process's network namespace only: the multi-node lab's hosts (ops/gluster-pools.sh) share
    /// the process table, and their glusterds must not be the ones stopped.
    static func pids(matching needle: String) -> [pid_t] {
        let mine = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let line = String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            guard line.contains(needle), pid != getpid() else { return nil }
            return (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/ns/net")) == mine ? pid : nil
        }
    }

    static func metric(_ port: Int, _ line: String) -> Bool {
        runCommandCapturing(["curl", "-sf", "http://127.0.0.1:\(port)/metrics"]).output.split(separator: "\n").contains { $0.hasPrefix(line) }
    }

    @Test(.timeLimit(.minutes(6)))
    func aWedgedGlusterdIsReportedFailsFastAndDoesNotHoldUpOtherClusters() async throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("georep-wedge-\(tag)")
        let standinState = root.appendingPathComponent("standin")
        try FileManager.default.createDirectory(at: standinState, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let other = "sw\(tag)"
        let inventory = Inventory(clusters: [
            Inventory.Cluster(id: "lab", hosts: [Inventory.Host(name: env.labHost, transport: .local)]),
            Inventory.Cluster(id: other, hosts: [Inventory.Host(name: "standin", transport: .local, environment: [
                "GEOREP_STANDIN_STATE=\(standinState.path)", "GEOREP_STANDIN_CLUSTER=\(other)", "GEOREP_STANDIN_INIT_SECONDS=1",
            ], gluster: StandinLab.standin)]),
        ])
        let inventoryPath = root.appendingPathComponent("inventory.json").path
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try encoder.encode(inventory).write(to: URL(fileURLWithPath: inventoryPath))
        // One shard: the lab and the other cluster share a lane, so holding one up would hold both.
        let topology = GeoRepTopology(shards: 1, prefix: "g\(tag)")
        let port = 9871
        let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: env.labHost, secondaryVolume: "svol3")
        let gluster = GlusterExecutor(inventory: inventory, logger: logger)
        func cleanSlate() async {
            for operation in [GlusterOperation.lifecycle(.stop, ref, force: true), .delete(ref, resetSyncTime: true)] {
                do { try await gluster.perform(operation, cluster: "lab") } catch { logger.debug("clean slate: \(error)") }
            }
        }
        await cleanSlate()

        let admin = AMQPConnection(configuration: try AMQPConfiguration(url: env.amqpURL), name: "georep wedge tests", logger: logger)
        try await admin.open()
        try await admin.declare(topology.topology)
        let client = try await CommandClient.connect(url: env.amqpURL, source: "georep/tests", topology: topology, watchEvents: true, logger: logger)
        let worker = try spawnGeorepProcess(["worker"], environment: [
            "GEOREP_AMQP_URL": env.amqpURL, "GEOREP_INVENTORY": inventoryPath, "GEOREP_TOPOLOGY_PREFIX": topology.prefix,
            "GEOREP_SHARDS": "1", "GEOREP_MONITOR_INTERVAL": "2", "GEOREP_HEARTBEAT_INTERVAL": "0.5",
            "GEOREP_GLUSTER_SUSPECT_AFTER": "4", "GEOREP_GLUSTER_TIMEOUT": "60", "GEOREP_HTTP": "127.0.0.1:\(port)",
        ])
        var stopped: [pid_t] = []
        func resume() {
            for pid in stopped.reversed() { kill(pid, SIGCONT) }
            stopped.removeAll()
        }
        var failure: Error?
        do {
            try await Task.sleep(for: .seconds(3))
            var events: [Event] = []
            func next(_ seconds: Double, _ wanted: (Event) -> Bool) async -> Event? {
                let deadline = Date().addingTimeInterval(seconds)
                while Date() < deadline {
                    guard let item = await client.nextEvent(timeout: deadline.timeIntervalSinceNow), case .success(let (_, event)) = item else { continue }
                    events.append(event)
                    if wanted(event) { return event }
                }
                return nil
            }

            // A create through the worker; its gverify.sh is caught and stopped, then glusterd.
            let create = Command(action: .create, session: ref, options: CommandOptions(force: true), sender: "tests")
            try await client.send(create)
            var gverify: pid_t?
            for _ in 0..<1500 where gverify == nil {
                gverify = Self.pids(matching: "gverify.sh").first
                if gverify == nil { try await Task.sleep(for: .milliseconds(10)) }
            }
            let script = try #require(gverify, "gverify.sh never ran: did the create reach glusterd?")
            kill(script, SIGSTOP)
            stopped.append(script)
            let glusterd = try #require(Self.pids(matching: "glusterd").first { pid in
                (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.hasPrefix("glusterd") == true
            })
            kill(glusterd, SIGSTOP)
            stopped.append(glusterd)
            let wedgedAt = Date()

            // Reported, with the cause seen on the host.
            let down = await next(60) { if case .clusterAvailability(let a) = $0 { return !a.available } else { return false } }
            guard case .clusterAvailability(let unavailable) = try #require(down, "no georep.cluster.unavailable event") else { return }
            print("wedge reported after \(Int(Date().timeIntervalSince(wedgedAt))) s: \(unavailable.cause)")
            #expect(unavailable.cluster == "lab")
            #expect(unavailable.stuckProcesses.contains { $0.pid == Int(script) && $0.kind == .gverify }, "\(unavailable.stuckProcesses)")
            #expect(unavailable.cause.contains("gverify.sh"))
            #expect(Self.metric(port, "georep_cluster_wedged{cluster=\"lab\"} 1"), "the metric does not show the wedge")

            // The create fails with the typed error, within the retries, not after 120 s timeouts.
            let result = try await client.waitForResult(of: create.commandId, timeout: 60) { events.append($0) }
            #expect(result.outcome == .failed && result.error?.code == "management_plane_wedged", "\(result.outcome): \(result.message)")
            #expect(Date().timeIntervalSince(wedgedAt) < 45, "the create took \(Int(Date().timeIntervalSince(wedgedAt))) s to fail")

            // Another cluster on the same shard goes on meanwhile.
            let elsewhere = SessionRef(cluster: other, primaryVolume: "pvol1", secondaryHost: "standin", secondaryVolume: "svol1")
            let started = Date()
            for action in [CommandAction.create, .start] {
                let r = try await client.run(Command(action: action, session: elsewhere, sender: "tests"), timeout: 30) { events.append($0) }
                #expect(r.outcome == .succeeded, "\(action.rawValue) on \(other): \(r.message)")
            }
            #expect(Date().timeIntervalSince(started) < 20, "the other cluster waited behind the wedged one")
            // A second lab command fails at once (after its bounded retries), without a gluster call to the wedged host.
            let refresh = try await client.run(Command(action: .stop, session: ref, sender: "tests"), timeout: 30) { events.append($0) }
            #expect(refresh.error?.code == "management_plane_wedged", "\(refresh.message)")

            // Freed: the recovery is announced.
            resume()
            let up = await next(60) { if case .clusterAvailability(let a) = $0 { return a.available } else { return false } }
            #expect(up != nil, "no georep.cluster.available event after glusterd was resumed")
            let cleared = try await eventually(10, every: 0.5) { Self.metric(port, "georep_cluster_wedged{cluster=\"lab\"} 0") ? true : nil }
            #expect(cleared == true, "the metric still shows the wedge")
        } catch { failure = error }
        resume()
        worker.terminate()
        worker.waitUntilExit()
        await client.close()
        await admin.remove(topology.topology)
        await admin.close()
        await cleanSlate()
        if let failure { throw failure }
    }
}
}

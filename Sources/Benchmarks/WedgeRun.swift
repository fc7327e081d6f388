import AMQP
import ArgumentParser
import Foundation
import GeoRepCore
import Gluster
import Logging
import Synchronization

/// The wedge of `../shared/gluster-10.3/README.md`, reproduced on purpose on the real lab:
/// `georep worker` processes with a 1 s monitor interval create and delete a session again and
/// again while two loops outside the service ask glusterd for `volume info` and `status detail`
/// back to back. With `--outside turns` the loops take the same per-host turns as our processes
/// (`georep turn --host HOST -- gluster …`), as the docs tell operators' scripts to; with
/// `--outside plain` they do not, which is the recipe that froze the lab.
///
/// Prints each create's and delete's time, the loops' slowest call, and whether anything stalled
/// (a call over `--stall` seconds). A stalled glusterd is freed at the end by ending the gverify
/// mount clients it waits for (the documented remedy), so the lab is usable afterwards.
struct WedgeRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wedge",
        abstract: "Creates and deletes on the real lab under a fast monitor and outside gluster loops: does glusterd stall?")

    @OptionGroup var broker: BrokerOption
    @Option(help: "The lab's inventory (env GEOREP_INVENTORY).") var inventory: String?
    @Option(help: "georep worker processes.") var workers = 3
    @Option(help: "Create + delete cycles.") var cycles = 6
    @Option(help: "Outside loops: none, plain (no turns) or turns (georep turn).") var outside = "turns"
    @Option(help: "A call slower than this many seconds counts as a stall.") var stall = 20.0
    @Option(help: "The secondary volume of the session made and deleted.") var secondary = "svol2"

    func run() async throws {
        guard ["none", "plain", "turns"].contains(outside) else { throw ValidationError("--outside is none, plain or turns") }
        let url = try broker.url()
        guard let inventoryPath = inventory ?? ProcessInfo.processInfo.environment["GEOREP_INVENTORY"],
              let host = ProcessInfo.processInfo.environment["GEOREP_LAB_HOST"] else {
            throw ValidationError("source /var/lib/georep/stack.env (GEOREP_INVENTORY, GEOREP_LAB_HOST)")
        }
        var logger = Logger(label: "georep.bench")
        logger.logLevel = .warning
        let topology = GeoRepTopology(shards: 12, prefix: "wedge\(UUID().uuidString.prefix(6).lowercased())")
        let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: host, secondaryVolume: secondary)
        let gluster = GlusterExecutor(inventory: try Inventory.load(path: inventoryPath), commandTimeout: 30, logger: logger)
        for operation in [GlusterOperation.lifecycle(.stop, ref, force: true), .delete(ref, resetSyncTime: true)] {
            do { try await gluster.perform(operation, cluster: "lab") } catch { print("  clean slate: \(error.code)") }
        }

        let client = try await CommandClient.connect(url: url, source: "georep/bench-wedge", topology: topology, watchEvents: true, logger: logger)
        let georep = try BenchSupport.georepPath()
        var processes: [Process] = []
        for _ in 0..<workers {
            processes.append(try BenchSupport.spawn(georep, ["worker"], [
                "GEOREP_AMQP_URL": url, "GEOREP_INVENTORY": inventoryPath, "GEOREP_TOPOLOGY_PREFIX": topology.prefix, "GEOREP_SHARDS": "12",
                "GEOREP_MONITOR_INTERVAL": "1", "GEOREP_HEARTBEAT_INTERVAL": "0.5", "GEOREP_LOG_LEVEL": "error", "GEOREP_HTTP": "127.0.0.1:0",
            ], quiet: true))
        }
        defer { for p in processes where p.isRunning { p.terminate(); p.waitUntilExit() } }
        try await BenchSupport.waitForSplit(workers: workers, topology: topology, url: url, logger: logger)
        print("wedge: \(workers) workers (1 s monitor), \(cycles) create/delete cycles of \(ref), outside loops: \(outside)")

        // The outside loops: `volume info` and `status detail`, back to back, until told to stop.
        let tally = OutsideTally()
        let turns = [georep, "turn", "--report-wait", "--host", host, "--"]
        let loops = outside == "none" ? [] : [["volume", "info"], ["volume", "geo-replication", "status", "detail"]].map { words in
            Task.detached {
                let runner = ProcessRunner()
                while !tally.stop.load(ordering: .relaxed) {
                    let argv = (outside == "turns" ? turns : []) + ["gluster", "--mode=script", "--xml"] + words
                    let started = ContinuousClock.now
                    var waited = 0.0  // for the turn: not glusterd's time
                    do {
                        let out = try await runner.run(argv, timeout: 600)
                        if let line = out.stderr.split(separator: "\n").first(where: { $0.hasPrefix("georep turn: waited ") }),
                           let value = Double(line.split(separator: " ")[3]) { waited = value }
                    } catch { print("  outside loop: \(error)") }
                    let took = BenchSupport.seconds(ContinuousClock.now - started) - waited
                    tally.waited.withLock { $0 = max($0, waited) }
                    tally.calls.add(1, ordering: .relaxed)
                    tally.slowest.withLock { if took > $0.0 { $0 = (took, words.joined(separator: " ")) } }
                }
            }
        }

        var rows: [(String, Double, String)] = []
        var wedges = 0
        for _ in 0..<cycles {
            for (action, options) in [(CommandAction.create, CommandOptions(force: true)), (.delete, CommandOptions())] {
                let started = ContinuousClock.now
                let command = Command(action: action, session: ref, options: options, sender: "bench")
                let outcome: String
                do {
                    let result = try await client.run(command, timeout: 300) { event in
                        if case .clusterAvailability(let a) = event, !a.available { wedges += 1 }
                    }
                    outcome = result.error?.code ?? result.outcome.rawValue
                } catch {
                    outcome = "no result in 300 s"
                }
                rows.append((action.rawValue, BenchSupport.seconds(ContinuousClock.now - started), outcome))
            }
        }
        tally.stop.store(true, ordering: .relaxed)
        for loop in loops { await loop.value }
        for p in processes where p.isRunning { p.terminate(); p.waitUntilExit() }
        await client.bus.connection.remove(topology.topology)
        await client.close()

        for (action, seconds, outcome) in rows { print(String(format: "  %-7@ %7.1f s  %@", action, seconds, outcome)) }
        let worst = tally.slowest.withLock { $0 }
        let commandsWorst = rows.map(\.1).max() ?? 0
        // A stall is glusterd not answering: an outside call's answer (its wait for a turn, behind
        // a create, is not glusterd's), or a command that failed wedged.
        let stalled = worst.0 > stall || wedges > 0 || rows.contains { $0.2 != "succeeded" }
        print(String(format: "  outside calls: %d, slowest gluster answer %.1f s (%@), longest wait for a turn %.1f s; slowest command %.1f s; wedge events %d",
                     tally.calls.load(ordering: .relaxed), worst.0, worst.1, tally.waited.withLock { $0 }, commandsWorst, wedges))
        print("wedge: \(stalled ? "STALLED" : "no stall") (a stall: an outside gluster answer over \(Int(stall)) s, a wedge event or a failed command)")
        try await freeTheLab()
    }

    /// The remedy, when glusterd does not answer: end the gverify mount clients it waits for.
    func freeTheLab() async throws {
        let runner = ProcessRunner()
        for _ in 0..<3 {
            if let out = try? await runner.run(["gluster", "--mode=script", "--xml", "volume", "info"], timeout: 15), !out.timedOut { return }
            let ps = try await runner.run(["ps", "-eo", "pid=,args="], timeout: 10)
            for line in ps.stdout.split(separator: "\n") where line.contains("--volfile-id") && line.contains("gverify-") {
                if let pid = Int32(line.split(separator: " ").first ?? "") {
                    print("  freeing the lab: ending gverify's mount client \(pid)")
                    kill(pid, SIGTERM)
                }
            }
        }
    }
}

/// What the outside loops share with the run: their calls, the slowest, and when to stop.
final class OutsideTally: Sendable {
    let slowest = Mutex<(Double, String)>((0, ""))
    let calls = Atomic<Int>(0)
    /// The longest an outside call waited for its turn (turns mode).
    let waited = Mutex<Double>(0)
    let stop = Atomic<Bool>(false)
}

import ArgumentParser
import Foundation
import GeoRepCore
import Gluster
import Logging

/// Cost of running gluster over ssh with a reused connection (ControlMaster) against a fresh
/// ssh connection per command, with local gluster as the baseline, all in one run.
struct SSHBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssh", abstract: "gluster over ssh: reused connection vs fresh connection per command (baseline: local).")

    @Option(help: "Inventory with the lab (env GEOREP_INVENTORY).") var inventory: String?
    @Option(help: "Cluster id.") var cluster = "lab"
    @Option(help: "Commands per variant.") var iterations = 20

    func run() async throws {
        guard let path = inventory ?? ProcessInfo.processInfo.environment["GEOREP_INVENTORY"] else {
            throw ValidationError("pass --inventory or set GEOREP_INVENTORY (ops/stack-up.sh writes it)")
        }
        let lab = try Inventory.load(path: path)
        guard let host = lab.cluster(cluster)?.hosts.first?.name else { throw ValidationError("cluster \(cluster) has no hosts") }
        var logger = Logger(label: "georep.bench")
        logger.logLevel = .warning
        let control = FileManager.default.temporaryDirectory.appendingPathComponent("georep-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: control, withIntermediateDirectories: true)

        func executor(_ transport: Inventory.Host.Transport, reuse: Bool) -> GlusterExecutor {
            var ssh = lab.ssh ?? SSHSettings()
            ssh.controlDirectory = control
            ssh.reuseConnections = reuse
            return GlusterExecutor(inventory: Inventory(clusters: [.init(id: cluster, hosts: [.init(name: host, transport: transport)])], ssh: ssh),
                                   logger: logger)
        }
        let variants: [(String, GlusterExecutor)] = [
            ("local gluster (baseline)", executor(.local, reuse: true)),
            ("ssh, reused connection", executor(.ssh, reuse: true)),
            ("ssh, fresh connection each", executor(.ssh, reuse: false)),
        ]
        // Warm up: caches, and the ControlMaster connection the reuse variant keeps.
        for (_, e) in variants { _ = try await e.volumes(cluster: cluster, volume: "mvol") }

        print("gluster volume info mvol, \(iterations) commands per variant, host \(host)")
        var medians: [Double] = []
        for (name, e) in variants {
            var samples: [Double] = []
            for _ in 0..<iterations {
                let start = ContinuousClock.now
                _ = try await e.volumes(cluster: cluster, volume: "mvol")
                let d = ContinuousClock.now - start
                samples.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
            }
            samples.sort()
            let p50 = samples[samples.count / 2]
            let p90 = samples[min(samples.count - 1, samples.count * 9 / 10)]
            medians.append(p50)
            let label = name.padding(toLength: 28, withPad: " ", startingAt: 0)
            print("  \(label)" + String(format: " p50 %7.1f ms   p90 %7.1f ms   mean %7.1f ms", p50, p90, samples.reduce(0, +) / Double(samples.count)))
        }
        let reuseOverhead = medians[1] - medians[0]
        let freshOverhead = medians[2] - medians[0]
        print(String(format: "ssh overhead per command (p50 minus local): reused %.1f ms, fresh %.1f ms", reuseOverhead, freshOverhead))
        print(String(format: "fresh / reused, whole command: %.2fx; overhead only: %.2fx", medians[2] / medians[1], freshOverhead / max(reuseOverhead, 0.1)))
    }
}

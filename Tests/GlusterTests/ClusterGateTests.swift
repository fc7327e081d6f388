import Foundation
import GeoRepCore
@testable import Gluster
import Testing

/// Reads of a cluster overlap; a change runs alone and in arrival order; clusters do not wait
/// for each other.
@Suite struct ClusterGateTests {
    let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: "vm", secondaryVolume: "svol")

    /// Who was inside each cluster at once, and the order they came in.
    actor Log {
        var reads: [String: Int] = [:]
        var changes: [String: Int] = [:]
        var mostReads: [String: Int] = [:]
        var overlaps = 0
        var entered: [String] = []

        func enter(_ cluster: String, _ name: String, change: Bool) {
            if change {
                if reads[cluster, default: 0] > 0 || changes[cluster, default: 0] > 0 { overlaps += 1 }
                changes[cluster, default: 0] += 1
            } else {
                if changes[cluster, default: 0] > 0 { overlaps += 1 }
                reads[cluster, default: 0] += 1
                mostReads[cluster] = max(mostReads[cluster] ?? 0, reads[cluster]!)
            }
            entered.append(name)
        }

        func leave(_ cluster: String, change: Bool) {
            if change { changes[cluster, default: 0] -= 1 } else { reads[cluster, default: 0] -= 1 }
        }
    }

    func hold(_ gate: ClusterGate, _ log: Log, _ cluster: String, _ name: String, change: Bool, for ms: Int) async {
        await gate.enter(cluster, change: change)
        await log.enter(cluster, name, change: change)
        try? await Task.sleep(for: .milliseconds(ms))
        await log.leave(cluster, change: change)
        gate.leave(cluster, change: change)
    }

    @Test func readsOverlapAndChangesRunAlone() async {
        let gate = ClusterGate()
        let reads = Log()
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<4 { group.addTask { await hold(gate, reads, "a", "r\(i)", change: false, for: 100) } }
        }
        #expect(await reads.mostReads["a"] == 4, "four reads of one cluster should overlap")

        let mixed = Log()
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<4 {
                group.addTask { await hold(gate, mixed, "a", "c\(i)", change: true, for: 30) }
                group.addTask { await hold(gate, mixed, "a", "r\(i)", change: false, for: 30) }
            }
            // Another cluster is not held up by this one's changes.
            group.addTask { await hold(gate, mixed, "b", "other", change: true, for: 30) }
        }
        #expect(await mixed.overlaps == 0, "a change shared the cluster with another holder")
        #expect(await mixed.entered.count == 9)
        #expect(ContinuousClock.now - started >= .milliseconds(150), "four changes and the reads between them cannot all overlap")
    }

    @Test func aChangeWaitsForTheReadInsideAndALaterReadWaitsForTheChange() async throws {
        let gate = ClusterGate()
        let log = Log()
        await gate.enter("a", change: false)  // a read inside
        let change = Task { await hold(gate, log, "a", "change", change: true, for: 50) }
        try await Task.sleep(for: .milliseconds(50))
        let read = Task { await hold(gate, log, "a", "later read", change: false, for: 10) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(await log.entered.isEmpty, "the change must wait for the read inside, the later read for the change")
        gate.leave("a", change: false)
        await change.value
        await read.value
        let order = await log.entered
        #expect(order == ["change", "later read"], "arrival order: \(order)")
        #expect(await log.overlaps == 0)
    }

    @Test func whatChangesAClusterIsTold() throws {
        for verb in GlusterOperation.Lifecycle.allCases {
            #expect(GlusterOperation.lifecycle(verb, ref, force: false).lockUnit == .volume("mvol"))
        }
        #expect(GlusterOperation.configSet(ref, key: "sync-jobs", value: "4").lockUnit == .volume("mvol"))
        #expect(GlusterOperation.configReset(ref, key: "sync-jobs").lockUnit == .volume("mvol"))
        #expect(GlusterOperation.checkpoint(ref, at: nil).lockUnit == .volume("mvol"))
        #expect(GlusterOperation.delete(ref, resetSyncTime: true).lockUnit == .volume("mvol"))
        #expect(GlusterOperation.create(ref, CommandOptions()).lockUnit == .cluster)
        #expect(!GlusterOperation.status(volume: nil, session: nil, detail: true).changesCluster)
        #expect(!GlusterOperation.volumeInfo(volume: nil).changesCluster)
        #expect(!GlusterOperation.config(ref).changesCluster)
        #expect(!GlusterOperation.poolList.changesCluster)
    }

    /// The gate used to guess the operation back from the argument vector: a primary volume
    /// named `status` (or `config`, `info`) made its `stop` count as a read.
    @Test func volumesNamedLikeVerbsStillChange() throws {
        for name in ["status", "config", "info", "detail", "list"] {
            let odd = SessionRef(cluster: "lab", primaryVolume: name, secondaryHost: "vm", secondaryVolume: "status")
            let stop = GlusterOperation.lifecycle(.stop, odd, force: false)
            #expect(stop.changesCluster)
            #expect(stop.lockUnit == .volume(name))
            #expect(stop.name == "stop")
            #expect(try stop.arguments().suffix(4) == ["geo-replication", name, "vm::status", "stop"])
            #expect(GlusterOperation.configSet(odd, key: "sync-jobs", value: "4").name == "config-set")
        }
        #expect(GlusterOperation.lifecycle(.resume, ref, force: false).doneMessage == "session resumed")
        #expect(GlusterOperation.lifecycle(.stop, ref, force: false).doneMessage == "session stopped")
    }
}

/// A task cancelled while it waits for its turn leaves at once, takes no turn, and does not
/// hold up the ones behind it.
@Suite struct ClusterGateCancellationTests {
    @Test func aCancelledWaiterLeavesAndTheNextGoesIn() async throws {
        let gate = ClusterGate()
        #expect(await gate.enter("lab", change: true))
        let cancelled = Task { await gate.enter("lab", change: true) }
        let read = Task { await gate.enter("lab", change: false) }
        try await Task.sleep(for: .milliseconds(50))
        cancelled.cancel()
        #expect(await cancelled.value == false, "a cancelled waiter got in")
        gate.leave("lab", change: true)
        #expect(await read.value, "the read behind the cancelled change never got in")
        gate.leave("lab", change: false)
        #expect(await gate.enter("lab", change: true), "the cluster was left locked")
        gate.leave("lab", change: true)
    }

    @Test func cancelledBeforeWaitingNeverEnters() async {
        let gate = ClusterGate()
        await gate.enter("lab", change: true)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await gate.enter("lab", change: false)
        }
        #expect(await task.value == false)
        gate.leave("lab", change: true)
    }
}

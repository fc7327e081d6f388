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
        #expect(GlusterCall.changes(try GlusterArguments.lifecycle("start", ref, force: false)))
        #expect(GlusterCall.changes(try GlusterArguments.configSet(ref, key: "sync-jobs", value: "4")))
        #expect(GlusterCall.changes(try GlusterArguments.configReset(ref, key: "sync-jobs")))
        #expect(GlusterCall.changes(try GlusterArguments.checkpoint(ref, at: nil)))
        #expect(GlusterCall.changes(try GlusterArguments.delete(ref, resetSyncTime: true)))
        #expect(!GlusterCall.changes(try GlusterArguments.statusDetail(volume: nil, session: nil)))
        #expect(!GlusterCall.changes(try GlusterArguments.volumeInfo(nil)))
        #expect(!GlusterCall.changes(try GlusterArguments.config(ref)))
    }
}

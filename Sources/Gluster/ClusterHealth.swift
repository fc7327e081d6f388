import Foundation
import GeoRepCore
import Synchronization

/// Which clusters' glusterd does not answer, since when and why; shared by every copy of an
/// executor.
///
/// Exists for the 13 minutes the lab's glusterd froze behind a `create push-pem` whose gverify
/// mount waited for a volfile: every call after it (two workers' monitors, the tests' own) ran
/// into the 120 s CLI timeout in turn and lengthened the queue. Once a cluster is known to be
/// wedged, calls to it fail at once with ``GlusterError/managementPlaneWedged(cluster:host:since:cause:)``
/// and one short probe at a time asks whether glusterd answers again.
public final class ClusterHealth: Sendable {
    struct Wedge: Sendable {
        var host: String
        var since: Date
        var cause: String
        var stuck: [StuckProcess]
        var lastProbe: ContinuousClock.Instant
        var probing = false
    }

    private let wedges = Mutex<[String: Wedge]>([:])
    /// Host locks kept by changes whose outcome is unknown, until their cluster answers again.
    private let parked = Mutex<[String: [HostLock.Held]]>([:])
    private let pending = Mutex<[ClusterAvailability]>([])

    public init() {}

    /// The cluster's wedge, if it has one.
    func wedge(_ cluster: String) -> Wedge? { wedges.withLock { $0[cluster] } }

    /// Whether the caller may send the one probe now (none running, the last one `every` ago).
    func claimProbe(_ cluster: String, every: Duration) -> Bool {
        wedges.withLock { all in
            guard var wedge = all[cluster], !wedge.probing, ContinuousClock.now - wedge.lastProbe >= every else { return false }
            wedge.probing = true
            wedge.lastProbe = .now
            all[cluster] = wedge
            return true
        }
    }

    func probeFailed(_ cluster: String) {
        wedges.withLock { $0[cluster]?.probing = false }
    }

    /// glusterd did not answer: remembered, and announced once.
    func markWedged(_ cluster: String, host: String, cause: String, stuck: [StuckProcess]) {
        let announce = wedges.withLock { all -> ClusterAvailability? in
            if all[cluster] != nil { return nil }
            let since = Date()
            all[cluster] = Wedge(host: host, since: since, cause: cause, stuck: stuck, lastProbe: .now)
            return ClusterAvailability(cluster: cluster, available: false, host: host, since: since, cause: cause, stuckProcesses: stuck)
        }
        if let announce { pending.withLock { $0.append(announce) } }
    }

    /// Keeps a host lock until `cluster` answers again.
    func park(_ held: HostLock.Held, cluster: String) {
        parked.withLock { $0[cluster, default: []].append(held) }
    }

    /// Whether a change left `cluster`'s host lock held (then a probe must not take it again).
    func parkedLock(_ cluster: String) -> Bool { parked.withLock { !($0[cluster] ?? []).isEmpty } }

    /// glusterd answered: a wedge ends, and is announced.
    func markAnswered(_ cluster: String, host: String) {
        for held in parked.withLock({ $0.removeValue(forKey: cluster) ?? [] }) { held.release() }
        let announce = wedges.withLock { all -> ClusterAvailability? in
            guard let wedge = all.removeValue(forKey: cluster) else { return nil }
            return ClusterAvailability(cluster: cluster, available: true, host: host, since: wedge.since, recoveredAt: Date(),
                                       cause: "glusterd on \(host) answers again (unavailable since \(wedge.since); it was: \(wedge.cause))")
        }
        if let announce { pending.withLock { $0.append(announce) } }
    }

    /// The clusters seen wedged now.
    public var wedged: [String] { wedges.withLock { Array($0.keys) } }

    /// Changes not announced yet, oldest first; the caller publishes them (or gives them back).
    public func takeChanges() -> [ClusterAvailability] {
        pending.withLock { all in
            defer { all.removeAll() }
            return all
        }
    }

    /// Puts back changes whose publishing failed, ahead of newer ones.
    public func giveBack(_ changes: [ClusterAvailability]) {
        pending.withLock { $0.insert(contentsOf: changes, at: 0) }
    }
}

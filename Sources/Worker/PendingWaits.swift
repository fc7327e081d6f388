import Foundation
import GeoRepCore

/// The `checkpoint` commands with `wait` whose result is still owed, as every worker learns
/// them from the journal (``CommandWaiting``, then the command's result). Whoever owns a
/// cluster answers its waits when it reads the cluster (``ClusterMonitor``).
actor PendingWaits {
    private var waits: [UUID: CommandWaiting] = [:]

    /// The journal keeps order: a wait's record comes before its result.
    func register(_ wait: CommandWaiting) { waits[wait.commandId] = wait }

    func answered(_ commandId: UUID) { waits.removeValue(forKey: commandId) }

    func isWaiting(_ commandId: UUID) -> Bool { waits[commandId] != nil }

    func pending(cluster: String) -> [CommandWaiting] {
        waits.values.filter { $0.session.cluster == cluster }.sorted { $0.deadline < $1.deadline }
    }

    /// The clusters with a wait pending.
    var clusters: Set<String> { Set(waits.values.map(\.session.cluster)) }
}

import Foundation

/// "Read this cluster now": put on the commands exchange with the cluster's routing key
/// (``CommandRouting``), so that the monitor's reads go through the same shard, in the same
/// order, as the commands that change the cluster, and never overlap one of them.
///
/// One worker sends a cluster's ticks (the owner of ``ShardAssignment/tickerShard(ofCluster:count:)``),
/// once per monitor interval. A tick queued before the cluster's last read is skipped, so a
/// second sender (while two workers briefly disagree about the members) or ticks queued behind a
/// slow command cost one look, not one read each.
public struct MonitorTick: Codable, Hashable, Sendable {
    public static let type = "georep.worker.monitor_tick"
    public var cluster: String
    public var instance: String
    public var sentAt: Date

    public init(cluster: String, instance: String, sentAt: Date = Date()) {
        self.cluster = cluster
        self.instance = instance
        self.sentAt = sentAt
    }
}

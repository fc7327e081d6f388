/// Where a command goes on the bus: glusterd's locks decide, not the session.
///
/// glusterd takes an mgmt_v3 lock per primary volume for every geo-replication change
/// (`config`, `start`, `stop`, …: two changes to two sessions of one volume at once were refused
/// 9 times in 10 on the lab), and a `create push-pem` holds that lock while `gverify.sh`
/// FUSE-mounts the primary and the secondary volume, whose mount clients need glusterd to serve
/// their volfiles. Any other CLI call that reaches glusterd then can leave the mount waiting for
/// a volfile that is never served, and every later call queues behind it: the lab's glusterd
/// froze for 13 minutes that way with two workers polling and the test suite creating sessions.
///
/// So the unit of exclusivity is the whole cluster: every command for a cluster goes to the one
/// shard its cluster id hashes to, and the cluster's monitor reads (``MonitorTick``) go to the same
/// shard, so the shard's one owner is the only worker that reads or changes the cluster, one
/// delivery at a time. Per-session order follows (a session belongs to one cluster).
public enum CommandRouting {
    /// The routing key of every command for `session` on the commands exchange.
    public static func routingKey(for session: SessionRef) -> String { routingKey(cluster: session.cluster) }

    /// The routing key of everything that reads or changes `cluster`.
    public static func routingKey(cluster: String) -> String { "cluster:\(cluster)" }
}

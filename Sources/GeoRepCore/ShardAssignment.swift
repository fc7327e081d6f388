/// Which worker owns which command shard, computed the same way by every worker from the same
/// list of live workers (rendezvous hashing): each shard goes to the worker with the highest
/// hash of (worker, shard). Adding or removing a worker moves only the shards it gains or had.
///
/// Single-active-consumer on the shard queues stays the safety net: while two workers briefly
/// disagree about the list, only one of them receives a shard's messages.
public enum ShardAssignment {
    /// The owner of `shard` among `members`, or nil when there are none.
    public static func owner(of shard: Int, members: [String]) -> String? {
        members.max { a, b in
            let (ha, hb) = (score(a, shard), score(b, shard))
            return ha == hb ? a < b : ha < hb
        }
    }

    /// The shards `member` owns among `members`.
    public static func shards(of member: String, members: [String], count: Int) -> Set<Int> {
        Set((0..<count).filter { owner(of: $0, members: members) == member })
    }

    /// The shard whose owner sends `cluster`'s ``MonitorTick``s: one tick per cluster and
    /// interval, from one worker, however many workers there are. (The reads themselves happen
    /// wherever the cluster's commands go: ``CommandRouting``.)
    public static func tickerShard(ofCluster cluster: String, count: Int) -> Int {
        Int(fnv1a(Array("cluster:\(cluster)".utf8)) % UInt64(max(1, count)))
    }

    static func score(_ member: String, _ shard: Int) -> UInt64 {
        mix(fnv1a(Array("\(member)|\(shard)".utf8)))
    }

    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// A 64-bit finaliser (splitmix64), so that names differing in one character spread well.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

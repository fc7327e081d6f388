import Foundation

/// A cluster's management plane (glusterd) stopped answering, or answers again
/// (`georep.cluster.unavailable` / `georep.cluster.available`).
///
/// Published by the worker that owns the cluster when its gluster calls time out, with the cause
/// it could see on the host (a `gverify.sh` or hook script glusterd started minutes ago, a FUSE
/// mount client waiting for its volfile), and again when a probe is answered.
public struct ClusterAvailability: EventPayload {
    public var cluster: String
    public var available: Bool
    /// The host whose glusterd did not answer (or answered again).
    public var host: String
    /// When the cluster was first seen unavailable.
    public var since: Date
    /// When it answered again (only on `available`).
    public var recoveredAt: Date?
    /// What the worker saw, in words an operator can act on.
    public var cause: String
    /// Helper processes of glusterd that had run for long when the cluster was seen unavailable.
    public var stuckProcesses: [StuckProcess]
    public var observedAt: Date

    public init(cluster: String, available: Bool, host: String, since: Date, recoveredAt: Date? = nil, cause: String,
                stuckProcesses: [StuckProcess] = [], observedAt: Date = Date()) {
        self.cluster = cluster
        self.available = available
        self.host = host
        self.since = since
        self.recoveredAt = recoveredAt
        self.cause = cause
        self.stuckProcesses = stuckProcesses
        self.observedAt = observedAt
    }

    /// About a cluster, not a session: the cluster's id.
    public var subject: String? { cluster }
}

/// One process on a gluster host that glusterd waits for.
public struct StuckProcess: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// `gverify.sh`, run by `create push-pem` while glusterd holds the volume's lock.
        case gverify
        /// A FUSE mount client (`glusterfs … --volfile-id VOL`) that may wait for its volfile.
        case mountClient = "mount_client"
        /// A script under glusterd's hooks directory.
        case hook
    }

    public var pid: Int
    public var kind: Kind
    /// Seconds it had run when seen.
    public var seconds: Int
    /// Its command line (shortened).
    public var command: String

    public init(pid: Int, kind: Kind, seconds: Int, command: String) {
        self.pid = pid
        self.kind = kind
        self.seconds = seconds
        self.command = command
    }
}

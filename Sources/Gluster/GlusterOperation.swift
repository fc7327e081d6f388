import GeoRepCore

/// One gluster operation the service runs: what it is, whether it changes the cluster, what
/// glusterd locks for it, and its argument vector, built here and nowhere else.
///
/// Callers say what they want (`.lifecycle(.stop, ref, force: false)`); nobody outside this target
/// builds or reads an argument vector. (The gate used to guess the operation back from the
/// words, and a primary volume named `status` made its `stop` count as a read.)
public enum GlusterOperation: Sendable, Hashable {
    case volumeInfo(volume: String?)
    case poolList
    /// `status` or `status detail` of one session, of a volume's sessions, or of every session.
    case status(volume: String?, session: SessionRef?, detail: Bool)
    case config(SessionRef)
    case create(SessionRef, CommandOptions)
    case lifecycle(Lifecycle, SessionRef, force: Bool)
    case delete(SessionRef, resetSyncTime: Bool)
    case configSet(SessionRef, key: String, value: String)
    case configReset(SessionRef, key: String)
    /// `config checkpoint now`, or at a given time.
    case checkpoint(SessionRef, at: String?)

    /// The verbs that move a session between running, paused and stopped.
    public enum Lifecycle: String, Sendable, Hashable, CaseIterable {
        case start, stop, pause, resume

        /// "started", "stopped", …
        public var done: String {
            switch self {
            case .start: "started"
            case .stop: "stopped"
            case .pause: "paused"
            case .resume: "resumed"
            }
        }
    }

    /// What glusterd serialises an operation on.
    public enum LockUnit: Sendable, Hashable {
        /// A read: glusterd's cluster-wide `status` and `info` take no volume lock.
        case none
        /// glusterd's mgmt_v3 lock on the primary volume (every geo-replication change).
        case volume(String)
        /// The whole cluster: a create also FUSE-mounts volumes through glusterd (gverify.sh) and
        /// runs hooks; any other call that reaches glusterd meanwhile can wedge it.
        case cluster
    }

    /// A short name for logs and metrics: `status-detail`, `start`, `config-set`, …
    public var name: String {
        switch self {
        case .volumeInfo: "volume-info"
        case .poolList: "pool-list"
        case .status(_, _, let detail): detail ? "status-detail" : "status"
        case .config: "config"
        case .create: "create"
        case .lifecycle(let verb, _, _): verb.rawValue
        case .delete: "delete"
        case .configSet: "config-set"
        case .configReset: "config-reset"
        case .checkpoint: "checkpoint"
        }
    }

    /// Whether it changes the cluster (else it only reads).
    public var changesCluster: Bool { lockUnit != .none }

    /// What glusterd locks while it runs.
    public var lockUnit: LockUnit {
        switch self {
        case .volumeInfo, .poolList, .status, .config: .none
        case .create: .cluster
        case .lifecycle(_, let ref, _), .delete(let ref, _), .configSet(let ref, _, _), .configReset(let ref, _),
             .checkpoint(let ref, _):
            .volume(ref.primaryVolume)
        }
    }

    /// What to say when gluster's own answer is empty.
    public var doneMessage: String {
        switch self {
        case .create: "session created"
        case .lifecycle(let verb, _, _): "session \(verb.done)"
        case .delete: "session deleted"
        case .configSet: "option set"
        case .configReset: "option reset"
        case .checkpoint: "checkpoint set"
        case .volumeInfo, .poolList, .status, .config: "read"
        }
    }

    /// The argument vector after the gluster program, every name validated first.
    public func arguments() throws(ValidationError) -> [String] {
        switch self {
        case .volumeInfo(let volume): try GlusterArguments.volumeInfo(volume)
        case .poolList: GlusterArguments.poolList()
        case .status(let volume, let ref, let detail): try GlusterArguments.status(volume: volume, session: ref, detail: detail)
        case .config(let ref): try GlusterArguments.config(ref)
        case .create(let ref, let options): try GlusterArguments.create(ref, options: options)
        case .lifecycle(let verb, let ref, let force): try GlusterArguments.lifecycle(verb, ref, force: force)
        case .delete(let ref, let reset): try GlusterArguments.delete(ref, resetSyncTime: reset)
        case .configSet(let ref, let key, let value): try GlusterArguments.configSet(ref, key: key, value: value)
        case .configReset(let ref, let key): try GlusterArguments.configReset(ref, key: key)
        case .checkpoint(let ref, let at): try GlusterArguments.checkpoint(ref, at: at)
        }
    }
}

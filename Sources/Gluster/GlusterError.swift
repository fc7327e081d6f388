import GeoRepCore

/// Everything that can go wrong running gluster, typed so that callers can decide
/// (treat as success, retry elsewhere, report) and operators read what to do.
public enum GlusterError: Error, Equatable, Sendable, CustomStringConvertible {
    case sessionNotFound(message: String)
    case volumeNotFound(message: String)
    /// The secondary volume could not be mounted (missing, stopped, or unreachable).
    case secondaryUnavailable(message: String)
    case alreadyStarted(message: String)
    case alreadyStopped(message: String)
    case alreadyPaused(message: String)
    case notPaused(message: String)
    case stillActive(message: String)
    /// pause or resume of a session that is not running (gluster answers opRet 0 "not set up").
    case notRunning(message: String)
    /// glusterd holds another transaction's lock; retry shortly.
    case transactionInProgress(message: String)
    /// ssh could not reach the host, or glusterd there does not answer; try another host of the cluster.
    case hostUnreachable(host: String, message: String)
    case timeout(host: String, seconds: Double)
    /// Other processes of ours on this machine kept their turn on the host that long (a change
    /// whose outcome is unknown keeps it until glusterd answers again); nothing was run.
    case hostBusy(host: String, seconds: Double)
    /// glusterd on the cluster does not answer at all, typically waiting for a helper it started
    /// (gverify.sh's mount client, a hook): calls fail at once until a probe is answered again.
    case managementPlaneWedged(cluster: String, host: String, cause: String)
    /// gluster said something this parser cannot read; `raw` keeps it.
    case unparseable(raw: String)
    /// Any other refusal, with gluster's numbers and words.
    case failed(opRet: Int, opErrno: Int, message: String)
    /// The cluster id is not in the inventory.
    case unknownCluster(String)
    /// A process could not be started at all (e.g. no gluster or ssh binary).
    case launchFailed(String)
    /// A name or value failed validation; nothing was run.
    case invalidInput(ValidationError)
    /// The caller's task was cancelled while it waited for its turn on the cluster; nothing was run.
    case cancelled
    /// The touch of a volume's root after a checkpoint (``VolumeRootTouch``) failed at `step`.
    case touchFailed(host: String, volume: String, step: String)

    public var code: String {
        switch self {
        case .sessionNotFound: "session_not_found"
        case .volumeNotFound: "volume_not_found"
        case .secondaryUnavailable: "secondary_unavailable"
        case .alreadyStarted: "already_started"
        case .alreadyStopped: "already_stopped"
        case .alreadyPaused: "already_paused"
        case .notPaused: "not_paused"
        case .stillActive: "still_active"
        case .notRunning: "not_running"
        case .transactionInProgress: "transaction_in_progress"
        case .hostUnreachable: "host_unreachable"
        case .timeout: "timeout"
        case .hostBusy: "host_busy"
        case .managementPlaneWedged: "management_plane_wedged"
        case .unparseable: "unparseable_output"
        case .failed: "gluster_failed"
        case .unknownCluster: "unknown_cluster"
        case .launchFailed: "launch_failed"
        case .invalidInput: "invalid_input"
        case .cancelled: "cancelled"
        case .touchFailed: "touch_failed"
        }
    }

    /// Worth trying again (later, or on another host of the same cluster).
    public var retryable: Bool {
        switch self {
        case .transactionInProgress, .hostUnreachable, .timeout, .hostBusy, .managementPlaneWedged: true
        default: false
        }
    }

    /// Whether another host of the same cluster may succeed where this one failed.
    public var tryAnotherHost: Bool {
        switch self {
        case .hostUnreachable, .timeout, .hostBusy, .launchFailed, .managementPlaneWedged: true
        default: false
        }
    }

    /// The host itself did not answer (unreachable, silent, wedged), as opposed to answering
    /// that it is busy: it is asked last for a while (``HostOrder``).
    public var hostDidNotAnswer: Bool {
        switch self {
        case .hostUnreachable, .timeout, .launchFailed, .managementPlaneWedged: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .sessionNotFound(let m): "\(m) Create the session first, or check the names."
        case .volumeNotFound(let m): "\(m) Check the volume name and that it exists on this cluster."
        case .secondaryUnavailable(let m): "\(m) Check that the secondary volume exists, is started and is reachable over ssh."
        case .alreadyStarted(let m), .alreadyStopped(let m), .alreadyPaused(let m): m
        case .notPaused(let m): "\(m) Only a paused session can be resumed."
        case .stillActive(let m): m
        case .notRunning(let m): "\(m): the session is not running; start it first."
        case .transactionInProgress(let m): "\(m) Another gluster operation holds the cluster lock; retry shortly."
        case .hostUnreachable(let host, let m): "host \(host) is unreachable or glusterd is down: \(m)"
        case .timeout(let host, let s): "gluster on \(host) did not answer within \(Int(s)) s"
        case .hostBusy(let host, let s):
            "gluster on \(host) was not asked: other processes of this machine kept their turn on it for \(Int(s)) s "
                + "(a change whose outcome is unknown keeps it until glusterd answers again); retry later"
        case .managementPlaneWedged(let cluster, let host, let cause):
            "the management plane (glusterd) of cluster \(cluster) is wedged: \(cause). Commands for this cluster fail "
                + "until glusterd on \(host) answers again; other clusters are not affected (docs/reliability.md, \"A wedged glusterd\")"
        case .unparseable(let raw): "gluster's answer could not be read: \(raw.prefix(300))"
        case .failed(let ret, let errno, let m): "gluster failed (opRet \(ret), opErrno \(errno)): \(m)"
        case .unknownCluster(let id): "cluster \"\(id)\" is not in the inventory; add it with its gluster hosts"
        case .launchFailed(let m): "could not run the command: \(m)"
        case .invalidInput(let e): e.description
        case .cancelled: "cancelled before it ran (the worker is stopping or lost its connection); the command will be delivered again"
        case .touchFailed(let host, let volume, let step):
            "could not touch the root of volume \(volume) on \(host) (\(step) failed): a brick nothing is written to may not complete "
                + "its checkpoint until the next write; let the worker's user mount glusterfs there, or set GEOREP_CHECKPOINT_TOUCH=off"
        }
    }

    public var errorInfo: ErrorInfo {
        var detail: String?
        if case .unparseable(let raw) = self { detail = String(raw.prefix(4096)) }
        return ErrorInfo(code: code, message: description, retryable: retryable, detail: detail)
    }

    /// gluster answers pause and resume of a stopped session with opRet 0 and
    /// "geo-replication is not set up"; that is a failure to reach the wanted state.
    public static func notRunning(after verb: String, message: String) -> GlusterError? {
        guard verb == "pause" || verb == "resume", message.lowercased().contains("not set up") else { return nil }
        return .notRunning(message: message)
    }

    /// Classifies gluster's words, which are the only signal it gives (opErrno is 30800 for most).
    static func classify(opRet: Int, opErrno: Int, message: String) -> GlusterError {
        let m = message.lowercased()
        if m.contains("another transaction is in progress") || m.contains("locking failed") || m.contains("lock") && m.contains("held") {
            return .transactionInProgress(message: message)
        }
        if m.contains("already started") { return .alreadyStarted(message: message) }
        if m.contains("already paused") { return .alreadyPaused(message: message) }
        if m.contains("not paused") { return .notPaused(message: message) }
        if m.contains("still active") { return .stillActive(message: message) }
        if m.contains("not set up") || m.contains("not running") || m.contains("already stopped") {
            return .alreadyStopped(message: message)
        }
        if m.contains("unable to mount and fetch secondary volume") || m.contains("unable to mount and fetch slave volume") {
            return .secondaryUnavailable(message: message)
        }
        if m.hasPrefix("volume ") && m.contains("does not exist") { return .volumeNotFound(message: message) }
        if m.contains("does not exist") { return .sessionNotFound(message: message) }
        if m.contains("connection failed") && m.contains("gluster daemon") {
            return .hostUnreachable(host: "", message: message)
        }
        return .failed(opRet: opRet, opErrno: opErrno, message: message)
    }
}

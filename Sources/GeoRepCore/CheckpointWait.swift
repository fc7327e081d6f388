import Foundation

/// When a ``CommandWaiting`` is answered, from the session as last observed. Pure.
public enum CheckpointWait {
    public enum Decision: Equatable, Sendable {
        /// Not yet: look again at the next read.
        case pending
        case succeeded(String)
        case failed(ErrorInfo)
    }

    /// Statuses in which a checkpoint cannot progress: the wait fails at once.
    static let notReplicating: Set<GeoRepStatus> = [.stopped, .paused, .faulty, .notStarted]

    /// `status` nil: gluster no longer has the session. UNKNOWN (the cluster could not be asked)
    /// and INITIALIZING keep waiting until the deadline.
    public static func decide(_ wait: CommandWaiting, status: GeoRepStatus?, progress: CheckpointProgress?, now: Date) -> Decision {
        if let progress, status == .active, progress.state == .completed, let reached = progress.checkpointTime,
           wait.checkpointTime.map({ reached >= $0 }) ?? true {
            let took = progress.durationSeconds.map { String(format: " in %.0f s", $0) } ?? ""
            return .succeeded("checkpoint \(reached) completed at \(progress.completionTime ?? "?")\(took) on \(progress.activeBricks) active brick(s)")
        }
        guard let status else {
            return .failed(ErrorInfo(code: "session_not_found", message: "the session was deleted while the checkpoint was pending"))
        }
        if notReplicating.contains(status) {
            return .failed(ErrorInfo(
                code: "checkpoint_session_not_active",
                message: "the session is \(status.rawValue): the checkpoint cannot complete; start or resume it and set a new checkpoint",
                detail: progress.map(describe)))
        }
        if now >= wait.deadline {
            return .failed(ErrorInfo(
                code: "checkpoint_wait_expired",
                message: "the checkpoint did not complete within the wait; it stays set: wait again, or look at the session's bricks",
                retryable: true, detail: progress.map(describe)))
        }
        return .pending
    }

    /// How far the bricks got, in words.
    public static func describe(_ progress: CheckpointProgress) -> String {
        "\(progress.completedBricks) of \(progress.activeBricks) active brick(s) reached checkpoint \(progress.checkpointTime ?? "-"); "
            + "oldest last_synced \(progress.oldestLastSynced ?? "-")"
    }
}

import Foundation

/// Every Active brick of a session reached its checkpoint (``CheckpointProgress``): published
/// once per checkpoint, `georep.session.checkpoint.completed`. Times are gluster's local text.
public struct CheckpointCompleted: SessionEventPayload {
    public var sessionId: UUID
    public var session: SessionRef
    /// The checkpoint (`checkpoint_time`): everything written before it is on the secondary.
    public var checkpointTime: String
    /// When the last Active brick reached it (`checkpoint_completion_time`).
    public var completedAt: String?
    /// From the checkpoint to its completion.
    public var durationSeconds: Double?
    public var activeBricks: Int
    public var observation: Observation

    public init(session: SessionRef, progress: CheckpointProgress, observation: Observation) {
        self.sessionId = session.sessionID
        self.session = session
        self.checkpointTime = progress.checkpointTime ?? ""
        self.completedAt = progress.completionTime
        self.durationSeconds = progress.durationSeconds
        self.activeBricks = progress.activeBricks
        self.observation = observation
    }
}

/// A session's checkpoint stopped progressing: no Active brick moved for the configured time,
/// or the session left ACTIVE before it completed. At most once per checkpoint and reason,
/// `georep.session.checkpoint.stalled`.
public struct CheckpointStalled: SessionEventPayload {
    public enum Reason: String, Codable, Sendable {
        /// No Active brick moved for `GEOREP_CHECKPOINT_STALL_AFTER` seconds.
        case noProgress = "no_progress"
        /// The session was stopped, paused or went faulty before the checkpoint completed.
        case sessionNotActive = "session_not_active"
    }

    public var sessionId: UUID
    public var session: SessionRef
    public var checkpointTime: String
    public var reason: Reason
    /// The session's status when the stall was seen.
    public var status: GeoRepStatus
    /// How far the bricks got.
    public var progress: CheckpointProgress
    /// How long nothing moved (for `no_progress`), or how long the checkpoint had been pending.
    public var stalledSeconds: Double?
    public var observation: Observation

    public init(session: SessionRef, reason: Reason, status: GeoRepStatus, progress: CheckpointProgress, stalledSeconds: Double?,
                observation: Observation) {
        self.sessionId = session.sessionID
        self.session = session
        self.checkpointTime = progress.checkpointTime ?? ""
        self.reason = reason
        self.status = status
        self.progress = progress
        self.stalledSeconds = stalledSeconds
        self.observation = observation
    }
}

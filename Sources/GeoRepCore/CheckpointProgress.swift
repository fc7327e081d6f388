import Foundation

/// How far a session's current checkpoint has got, from its bricks as `status detail` reports
/// them: the one rule the worker (events, waits) and the tests use.
///
/// As GlusterFS's own `schedule_georep.py` decides it: only **Active** bricks count (a Passive
/// brick's replica partner syncs for it, and gsyncd reports N/A on it); the checkpoint is
/// complete when every Active brick reports `checkpoint_completed` Yes for the same
/// `checkpoint_time`, and it completed at the latest of their completion times. Times are the
/// bricks' instants in the one spelling of every message (``Timestamp``, UTC, fixed width), which
/// sorts chronologically.
public struct CheckpointProgress: Codable, Hashable, Sendable {
    public enum State: String, Codable, Sendable {
        /// No Active brick reports a checkpoint.
        case none
        /// Set, not yet reached by every Active brick.
        case pending
        /// Every Active brick reached it.
        case completed
    }

    public var state: State
    /// The checkpoint the Active bricks report (the newest when they disagree, as they do for a
    /// moment after a new one is set).
    public var checkpointTime: String?
    /// The latest Active brick's completion time, when completed.
    public var completionTime: String?
    public var activeBricks: Int
    /// Active bricks that reached `checkpointTime`.
    public var completedBricks: Int
    /// The oldest `last_synced` of the Active bricks: everything written before it is on the
    /// secondary. How far the bricks got when a checkpoint stalls or a window ends first.
    public var oldestLastSynced: String?

    public init(state: State, checkpointTime: String?, completionTime: String?, activeBricks: Int, completedBricks: Int,
                oldestLastSynced: String?) {
        self.state = state
        self.checkpointTime = checkpointTime
        self.completionTime = completionTime
        self.activeBricks = activeBricks
        self.completedBricks = completedBricks
        self.oldestLastSynced = oldestLastSynced
    }

    /// The progress of the checkpoint the bricks report.
    public static func of(_ bricks: [BrickDetail]) -> CheckpointProgress {
        let active = bricks.filter { $0.status == .active }
        let times = active.compactMap { $0.checkpointTime.map(Timestamp.format) }
        let oldest = active.compactMap(\.lastSynced).min().map(Timestamp.format)
        guard let newest = times.max() else {
            return CheckpointProgress(state: .none, checkpointTime: nil, completionTime: nil, activeBricks: active.count,
                                      completedBricks: 0, oldestLastSynced: oldest)
        }
        let reached = active.filter { $0.checkpointTime.map(Timestamp.format) == newest && $0.checkpointCompleted == true }
        let done = reached.count == active.count
        return CheckpointProgress(
            state: done ? .completed : .pending, checkpointTime: newest,
            completionTime: done ? reached.compactMap(\.checkpointCompletionTime).max().map(Timestamp.format) : nil,
            activeBricks: active.count, completedBricks: reached.count, oldestLastSynced: oldest)
    }

    /// Seconds from the checkpoint to its completion; nil unless both times are readable.
    public var durationSeconds: Double? {
        guard let start = checkpointTime.flatMap(Self.clockSeconds), let end = completionTime.flatMap(Self.clockSeconds) else { return nil }
        return max(0, end - start)
    }

    /// Seconds of `text` since 1970: a ``Timestamp``, or gluster's `YYYY-MM-DD HH:MM:SS` (UTC
    /// in its XML) as workers before times were normalised sent it.
    public static func clockSeconds(_ text: String) -> Double? {
        (Timestamp.parse(text) ?? Timestamp.parseUTCWallClock(text))?.timeIntervalSince1970
    }
}

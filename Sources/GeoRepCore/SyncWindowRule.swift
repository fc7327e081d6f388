import Foundation

/// What the owner of a cluster does for one scheduled session (``SyncSchedule``) on a monitor
/// round, as GlusterFS's `schedule_georep.py` does from cron: at a window's start it starts the
/// session (unless it runs) and sets a checkpoint (`now`); when every Active brick
/// reached it, it stops the session again; when the window ends first it stops it and reports
/// how far the bricks got. Pure.
///
/// Once per window, across restarts and handovers: `record` is what the journal says was done
/// (the opening and closing of windows any worker published, and the checkpoints announced
/// completed); the caller brings the journal up to now before acting. The one step a worker
/// killed between acting and publishing can leave half done is the opening: its start is
/// skipped for a running session and its checkpoint when gluster already has one at or after
/// the window's start (``needsCheckpoint(glusterCheckpoint:window:)``), so doing it again is
/// harmless.
public enum SyncWindowRule {
    public enum Decision: Equatable, Sendable {
        /// Nothing to do now.
        case none
        /// The window began: start the session when `start`, then set the checkpoint (unless
        /// gluster has it already), then publish `georep.session.window.opened`.
        case open(SyncSchedule.Window, start: Bool)
        /// The window's checkpoint completed: stop the session when `stop`, then publish
        /// `georep.session.window.completed`.
        case complete(SyncSchedule.Window, stop: Bool)
        /// The window ended before its checkpoint completed: stop the session when `stop`, then
        /// publish `georep.session.window.missed`.
        case miss(SyncSchedule.Window, stop: Bool)
    }

    /// What the journal says about a session's windows.
    public struct Record: Hashable, Sendable {
        /// The latest window opened by any worker.
        public var opened: SyncSchedule.Window?
        /// The start of the latest window closed (completed or missed).
        public var closedStart: Date?
        /// The newest checkpoint announced completed (`georep.session.checkpoint.completed`).
        public var completedCheckpoint: String?

        public init(opened: SyncSchedule.Window? = nil, closedStart: Date? = nil, completedCheckpoint: String? = nil) {
            self.opened = opened
            self.closedStart = closedStart
            self.completedCheckpoint = completedCheckpoint
        }

        /// The window opened and not closed yet, if any.
        public var openWindow: SyncSchedule.Window? {
            guard let opened, closedStart != opened.start else { return nil }
            return opened
        }
    }

    /// `status` nil: gluster has no such session. UNKNOWN (the cluster could not be asked) does
    /// nothing; a PAUSED session is not started (someone paused it on purpose) and its window is
    /// not opened.
    public static func decide(schedule: SyncSchedule, record: Record, status: GeoRepStatus?, progress: CheckpointProgress?,
                              now: Date) -> Decision {
        guard let status, status != .unknown else { return .none }
        let running = CommandPolicy.running.contains(status)
        if let open = record.openWindow {
            let observedDone = status == .active && progress?.state == .completed && reaches(progress?.checkpointTime, open)
            if observedDone || reaches(record.completedCheckpoint, open) { return .complete(open, stop: running) }
            if now >= open.end { return .miss(open, stop: running) }
            return .none
        }
        guard status != .paused, let window = schedule.window(containing: now),
              record.opened.map({ window.start > $0.start }) ?? true
        else { return .none }
        return .open(window, start: !running)
    }

    /// How much earlier than the window's start (on this worker's clock) a checkpoint may be and
    /// still count as the window's: gluster sets `checkpoint now` on its own clock, which may be
    /// behind. (gluster takes a given time only in its hosts' local zone, which we do not know.)
    /// Windows closer together than this may share one checkpoint.
    public static let clockSkew: TimeInterval = 60

    /// Whether the window's checkpoint is still to be set, given gluster's `checkpoint` option
    /// (epoch seconds; nil or 0 when none is set).
    public static func needsCheckpoint(glusterCheckpoint: Double?, window: SyncSchedule.Window) -> Bool {
        guard let set = glusterCheckpoint, set > 0 else { return true }
        return set < checkpointEpoch(window)
    }

    /// The earliest checkpoint (epoch seconds) that counts as the window's.
    static func checkpointEpoch(_ window: SyncSchedule.Window) -> Double { (window.start.timeIntervalSince1970 - clockSkew).rounded(.down) }

    /// Whether a checkpoint time (as the bricks or an announcement spell it) is the window's or later.
    static func reaches(_ checkpoint: String?, _ window: SyncSchedule.Window) -> Bool {
        guard let seconds = checkpoint.flatMap(CheckpointProgress.clockSeconds) else { return false }
        return seconds >= checkpointEpoch(window)
    }
}

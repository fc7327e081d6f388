import Foundation

/// A session's sync schedule as a `schedule` command set it (``SyncSchedule``; empty: cleared),
/// `georep.session.schedule.set`. The journal carries it to every worker; the cluster's owner
/// publishes it again before the journal's 24 h would forget it.
public struct ScheduleSet: SessionEventPayload {
    public var sessionId: UUID
    public var session: SessionRef
    public var schedule: SyncSchedule
    /// The command that set it.
    public var commandId: UUID?
    /// When the command set it (a re-publication keeps it).
    public var setAt: Date
    /// When this copy was published.
    public var publishedAt: Date
    /// The first window after `publishedAt`, for subscribers.
    public var nextWindow: SyncSchedule.Window?

    public init(session: SessionRef, schedule: SyncSchedule, commandId: UUID?, setAt: Date, publishedAt: Date = Date()) {
        self.sessionId = session.sessionID
        self.session = session
        self.schedule = schedule
        self.commandId = commandId
        self.setAt = setAt
        self.publishedAt = publishedAt
        self.nextWindow = schedule.window(containing: publishedAt) ?? schedule.next(after: publishedAt)
    }
}

/// The cluster's owner opened a session's sync window (``SyncWindowRule``): it started the
/// session (`started`) and set a checkpoint (unless gluster had one for the window). Once per window,
/// `georep.session.window.opened`.
public struct SyncWindowOpened: SessionEventPayload {
    public var sessionId: UUID
    public var session: SessionRef
    public var window: SyncSchedule.Window
    /// Whether the session had to be started (false: it was running already).
    public var started: Bool
    /// The checkpoint the window waits for: gluster's, when it had one for the window already,
    /// else when this worker set it (`now`, on the worker's clock).
    public var checkpointTime: Date
    public var openedAt: Date

    public init(session: SessionRef, window: SyncSchedule.Window, started: Bool, checkpointTime: Date, openedAt: Date = Date()) {
        self.sessionId = session.sessionID
        self.session = session
        self.window = window
        self.started = started
        self.checkpointTime = checkpointTime
        self.openedAt = openedAt
    }
}

/// A session's sync window closed: its checkpoint completed (`georep.session.window.completed`)
/// or the window ended first (`georep.session.window.missed`, with how far the bricks got).
/// The session was stopped (`stopped`) unless it was not running any more. Once per window.
public struct SyncWindowClosed: SessionEventPayload {
    public enum Outcome: String, Codable, Sendable {
        case completed
        case missed
    }

    public var sessionId: UUID
    public var session: SessionRef
    public var window: SyncSchedule.Window
    public var outcome: Outcome
    public var stopped: Bool
    /// The bricks' checkpoint progress as last observed (nil when the session was not running).
    public var progress: CheckpointProgress?
    public var closedAt: Date

    public init(session: SessionRef, window: SyncSchedule.Window, outcome: Outcome, stopped: Bool, progress: CheckpointProgress?,
                closedAt: Date = Date()) {
        self.sessionId = session.sessionID
        self.session = session
        self.window = window
        self.outcome = outcome
        self.stopped = stopped
        self.progress = progress
        self.closedAt = closedAt
    }
}

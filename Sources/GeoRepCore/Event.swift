import Foundation

/// Everything a worker publishes, with its CloudEvent type and its routing key on the
/// events exchange.
public enum Event: Sendable, Hashable {
    case commandResult(CommandResult)
    case sessionStatusChanged(SessionStatusChanged)
    case brickStatusChanged(BrickStatusChanged)
    case sessionSnapshot(SessionSnapshot)
    case sessionDeleted(SessionDeleted)
    case clusterInventory(ClusterInventory)
    case commandAccepted(CommandAccepted)
    /// glusterd stopped answering or answers again (``ClusterAvailability``).
    case clusterAvailability(ClusterAvailability)
    /// Every Active brick reached the session's checkpoint (``CheckpointCompleted``).
    case checkpointCompleted(CheckpointCompleted)
    /// A session's checkpoint stopped progressing (``CheckpointStalled``).
    case checkpointStalled(CheckpointStalled)
    /// A `checkpoint` command with `wait` set its checkpoint; its result follows later (``CommandWaiting``).
    case commandWaiting(CommandWaiting)
    /// A session's sync schedule was set or cleared (``ScheduleSet``).
    case scheduleSet(ScheduleSet)
    /// The owner opened a session's sync window (``SyncWindowOpened``).
    case windowOpened(SyncWindowOpened)
    /// A session's sync window completed or was missed (``SyncWindowClosed``).
    case windowClosed(SyncWindowClosed)

    /// Every CloudEvent type an event can have.
    public static let allTypes = [
        "georep.command.succeeded", "georep.command.failed", "georep.command.rejected",
        "georep.session.status_changed", "georep.brick.status_changed",
        "georep.session.snapshot", "georep.session.deleted", "georep.cluster.inventory", "georep.command.accepted",
        "georep.cluster.unavailable", "georep.cluster.available",
        "georep.session.checkpoint.completed", "georep.session.checkpoint.stalled", "georep.command.waiting",
        "georep.session.schedule.set", "georep.session.window.opened", "georep.session.window.completed", "georep.session.window.missed",
    ]

    public var type: String {
        switch self {
        case .commandResult(let r): "georep.command.\(r.outcome.rawValue)"
        case .sessionStatusChanged: "georep.session.status_changed"
        case .brickStatusChanged: "georep.brick.status_changed"
        case .sessionSnapshot: "georep.session.snapshot"
        case .sessionDeleted: "georep.session.deleted"
        case .clusterInventory: "georep.cluster.inventory"
        case .commandAccepted: "georep.command.accepted"
        case .clusterAvailability(let e): e.available ? "georep.cluster.available" : "georep.cluster.unavailable"
        case .checkpointCompleted: "georep.session.checkpoint.completed"
        case .checkpointStalled: "georep.session.checkpoint.stalled"
        case .commandWaiting: "georep.command.waiting"
        case .scheduleSet: "georep.session.schedule.set"
        case .windowOpened: "georep.session.window.opened"
        case .windowClosed(let e): "georep.session.window.\(e.outcome.rawValue)"
        }
    }

    /// Routing key on the events topic exchange: the type, except that status keys end in the new
    /// status so that `georep.session.status.faulty` or `georep.*.status.*faulty` can be bound directly.
    public var routingKey: String {
        switch self {
        case .sessionStatusChanged(let e): "georep.session.status.\(e.to.routingWord)"
        case .brickStatusChanged(let e): "georep.brick.status.\(e.to.routingWord)"
        default: type
        }
    }

    /// The event's data, whichever event it is.
    public var payload: any EventPayload {
        switch self {
        case .commandResult(let p): p
        case .sessionStatusChanged(let p): p
        case .brickStatusChanged(let p): p
        case .sessionSnapshot(let p): p
        case .sessionDeleted(let p): p
        case .clusterInventory(let p): p
        case .commandAccepted(let p): p
        case .clusterAvailability(let p): p
        case .checkpointCompleted(let p): p
        case .checkpointStalled(let p): p
        case .commandWaiting(let p): p
        case .scheduleSet(let p): p
        case .windowOpened(let p): p
        case .windowClosed(let p): p
        }
    }

    /// The CloudEvent `subject`: the session key the event is about (a cluster's id for the
    /// cluster events).
    public var subject: String? { payload.subject }

    /// A checkpoint completed or stalled: announced once per checkpoint.
    public var isCheckpointAnnouncement: Bool {
        switch self {
        case .checkpointCompleted, .checkpointStalled: true
        default: false
        }
    }
}

extension Event {
    /// The session an event is about, when it is about one.
    public var sessionID: UUID? {
        switch self {
        case .sessionStatusChanged(let e): e.sessionId
        case .brickStatusChanged(let e): e.sessionId
        case .sessionSnapshot(let e): e.sessionId
        case .sessionDeleted(let e): e.sessionId
        case .commandAccepted(let e): e.sessionId
        case .commandResult(let e): e.sessionId
        case .checkpointCompleted(let e): e.sessionId
        case .checkpointStalled(let e): e.sessionId
        case .commandWaiting(let e): e.sessionId
        case .scheduleSet(let e): e.sessionId
        case .windowOpened(let e): e.sessionId
        case .windowClosed(let e): e.sessionId
        case .clusterInventory, .clusterAvailability: nil
        }
    }
}

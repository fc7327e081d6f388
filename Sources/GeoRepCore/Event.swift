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

    /// Every CloudEvent type an event can have.
    public static let allTypes = [
        "georep.command.succeeded", "georep.command.failed", "georep.command.rejected",
        "georep.session.status_changed", "georep.brick.status_changed",
        "georep.session.snapshot", "georep.session.deleted", "georep.cluster.inventory", "georep.command.accepted",
        "georep.cluster.unavailable", "georep.cluster.available",
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
        }
    }

    /// Routing key on the events topic exchange; status keys end in the new status so that
    /// `georep.session.status.faulty` or `georep.*.status.*faulty` can be bound directly.
    public var routingKey: String {
        switch self {
        case .commandResult(let r): "georep.command.\(r.outcome.rawValue)"
        case .sessionStatusChanged(let e): "georep.session.status.\(e.to.routingWord)"
        case .brickStatusChanged(let e): "georep.brick.status.\(e.to.routingWord)"
        case .sessionSnapshot: "georep.session.snapshot"
        case .sessionDeleted: "georep.session.deleted"
        case .clusterInventory: "georep.cluster.inventory"
        case .commandAccepted: "georep.command.accepted"
        case .clusterAvailability(let e): e.available ? "georep.cluster.available" : "georep.cluster.unavailable"
        }
    }

    /// The CloudEvent `subject`: the session key the event is about.
    public var subject: String? {
        switch self {
        case .commandResult(let r): r.session?.key
        case .sessionStatusChanged(let e): e.session.key
        case .brickStatusChanged(let e): e.session.key
        case .sessionSnapshot(let e): e.session.key
        case .sessionDeleted(let e): e.session.key
        case .clusterInventory(let e): e.cluster
        case .commandAccepted(let e): e.session.key
        case .clusterAvailability(let e): e.cluster
        }
    }
}

import Foundation

/// What a cluster has, as one monitor round saw it: its volumes (with their bricks) and the ids of
/// its geo-replication sessions. Readers resolve volume names and brick ids with it (the API
/// accepts a session on a volume that has none yet), and it lets the persister drop sessions that
/// vanished while no worker was watching.
public struct ClusterInventory: EventPayload {
    public struct Volume: Codable, Hashable, Sendable {
        public var id: String
        public var name: String
        /// gluster's `statusStr`, e.g. `Started`.
        public var status: String
        public var bricks: [Brick]

        public init(id: String, name: String, status: String, bricks: [Brick]) {
            self.id = id
            self.name = name
            self.status = status
            self.bricks = bricks
        }
    }

    public struct Brick: Codable, Hashable, Sendable {
        /// ``StableID/brick(volumeID:host:path:)``.
        public var id: UUID
        public var host: String
        public var path: String
        public var hostUuid: String?

        public init(id: UUID, host: String, path: String, hostUuid: String?) {
            self.id = id
            self.host = host
            self.path = path
            self.hostUuid = hostUuid
        }
    }

    public var cluster: String
    public var volumes: [Volume]
    /// Every session of the cluster; nil when gluster's answer could not tell "none" from a
    /// failed read (it prints the same words for both), so nothing may be concluded from it.
    public var sessionIds: [UUID]?
    public var observation: Observation

    public init(cluster: String, volumes: [Volume], sessionIds: [UUID]?, observation: Observation) {
        self.cluster = cluster
        self.volumes = volumes
        self.sessionIds = sessionIds
        self.observation = observation
    }

    /// About a cluster, not a session: the cluster's id.
    public var subject: String? { cluster }
}

/// A command was accepted for delivery (published by the HTTP API before the command itself), so
/// that its status reads `pending` until its result arrives.
public struct CommandAccepted: SessionEventPayload {
    public var commandId: UUID
    public var action: String
    public var session: SessionRef
    public var sessionId: UUID
    public var sender: String
    public var acceptedAt: Date

    public init(command: Command, acceptedAt: Date = Date()) {
        self.commandId = command.commandId
        self.action = command.action.rawValue
        self.session = command.session
        self.sessionId = command.session.sessionID
        self.sender = command.sender
        self.acceptedAt = acceptedAt
    }

    /// Every field as a message carries it (the event decoder's).
    init(commandId: UUID, action: String, session: SessionRef, sessionId: UUID, sender: String, acceptedAt: Date) {
        self.commandId = commandId
        self.action = action
        self.session = session
        self.sessionId = sessionId
        self.sender = sender
        self.acceptedAt = acceptedAt
    }
}

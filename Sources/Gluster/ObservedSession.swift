import GeoRepCore

/// One session as `status [detail]` reports it, before it is tied to a cluster.
public struct ObservedSession: Sendable, Hashable {
    public var primaryVolume: String
    /// `session_secondary` (8+) or `session_slave` (7-): the session's key on gluster.
    public var sessionKey: String?
    public var secondaryUser: String?
    public var secondaryHost: String
    public var secondaryVolume: String
    public var secondaryVolumeId: String?
    public var bricks: [BrickDetail]

    /// The session's status by ``SessionStatusRule``.
    public var status: GeoRepStatus { SessionStatusRule.sessionStatus(brickStatuses: bricks.map(\.status)) }

    public func ref(cluster: String) -> SessionRef {
        SessionRef(cluster: cluster, primaryVolume: primaryVolume, secondaryHost: secondaryHost,
                   secondaryVolume: secondaryVolume, secondaryUser: secondaryUser)
    }

    /// True when this is the session `ref` names (the cluster is not part of gluster's answer).
    public func matches(_ ref: SessionRef) -> Bool {
        primaryVolume == ref.primaryVolume && secondaryHost.lowercased() == ref.secondaryHost
            && secondaryVolume == ref.secondaryVolume && (secondaryUser == "root" ? nil : secondaryUser) == ref.secondaryUser
    }
}

/// A volume as `volume info` reports it.
public struct VolumeInfo: Sendable, Hashable {
    public var name: String
    public var id: String
    public var status: String
    public var bricks: [Brick]

    public struct Brick: Sendable, Hashable {
        public var host: String
        public var path: String
        public var hostUuid: String?
    }
}

/// A peer as `pool list` reports it.
public struct PoolPeer: Sendable, Hashable {
    public var uuid: String
    public var hostname: String
    public var connected: Bool
}

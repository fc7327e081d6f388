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

    /// The session with every brick of its primary volume that gluster did not report added as
    /// `UNKNOWN` (raw status "not reported"), so that the session's status says so.
    ///
    /// A node whose glusterd is down drops out of its peers' `status detail` altogether: with
    /// p1's glusterd killed, p2 lists only its own Passive brick, while p1's brick is still
    /// there and its worker perhaps still Active (the multi-node lab, docs/lab.md). Read alone,
    /// that answer makes a replicating session look PASSIVE and takes p1's brick off the books.
    /// A brick counts as reported when a reported one has its path and its node (by glusterd
    /// id, or by name).
    public func completed(with volume: VolumeInfo) -> ObservedSession {
        guard volume.name == primaryVolume else { return self }
        var session = self
        for brick in volume.bricks {
            let reported = bricks.contains { b in
                b.primaryBrick == brick.path
                    && (b.primaryNode == brick.host || (brick.hostUuid != nil && b.primaryNodeUuid?.lowercased() == brick.hostUuid?.lowercased()))
            }
            guard !reported else { continue }
            session.bricks.append(BrickDetail(
                brickId: StableID.brick(volumeID: volume.id, host: brick.host, path: brick.path), primaryNode: brick.host,
                primaryNodeUuid: brick.hostUuid, primaryBrick: brick.path, secondaryUser: secondaryUser, secondaryHost: secondaryHost,
                status: .unknown, rawStatus: "not reported"))
        }
        return session
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

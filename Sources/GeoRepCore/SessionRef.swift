import Foundation

/// Names one geo-replication session the way an operator does: the cluster, the primary
/// volume and the secondary `[user@]host::volume`. Everything else (its id, its routing key)
/// is derived from these, so every process agrees on them without coordination.
public struct SessionRef: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The cluster id of the primary volume (a key of the inventory).
    public var cluster: String
    public var primaryVolume: String
    public var secondaryHost: String
    public var secondaryVolume: String
    /// The non-root user on the secondary, if any; `nil` means root.
    public var secondaryUser: String?

    public init(cluster: String, primaryVolume: String, secondaryHost: String, secondaryVolume: String, secondaryUser: String? = nil) {
        self.cluster = cluster
        self.primaryVolume = primaryVolume
        self.secondaryHost = secondaryHost.lowercased()
        self.secondaryVolume = secondaryVolume
        self.secondaryUser = secondaryUser == "root" ? nil : secondaryUser
    }

    /// The secondary as gluster's CLI takes it: `host::volume` or `user@host::volume`.
    public var secondarySpec: String {
        if let user = secondaryUser { return "\(user)@\(secondaryHost)::\(secondaryVolume)" }
        return "\(secondaryHost)::\(secondaryVolume)"
    }

    /// `cluster/primary/user@host::volume`: the command routing key (one session's commands
    /// always hash to the same shard) and the name its id is derived from.
    public var key: String { "\(cluster)/\(primaryVolume)/\(secondaryUser ?? "root")@\(secondaryHost)::\(secondaryVolume)" }

    /// The session's stable id (`gluster_georep_session.session_id`).
    public var sessionID: UUID { StableID.uuid(name: "session:\(key)") }

    public var description: String { key }

    /// Checks every name before it can reach a process or a routing key.
    public func validate(field: String = "session") throws(ValidationError) {
        try Validate.clusterID(cluster, field: "\(field).cluster")
        try Validate.volumeName(primaryVolume, field: "\(field).primary_volume")
        try Validate.hostName(secondaryHost, field: "\(field).secondary_host")
        try Validate.volumeName(secondaryVolume, field: "\(field).secondary_volume")
        if let user = secondaryUser { try Validate.userName(user, field: "\(field).secondary_user") }
    }

    /// Parses gluster's secondary spelling: `host::vol`, `user@host::vol`, or with an `ssh://` prefix
    /// (as `status` without a volume prints it).
    public static func parseSecondary(_ text: String) -> (user: String?, host: String, volume: String)? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if rest.hasPrefix("ssh://") { rest = rest.dropFirst("ssh://".count) }
        guard let sep = rest.range(of: "::") else { return nil }
        var hostPart = rest[..<sep.lowerBound]
        let volume = String(rest[sep.upperBound...])
        var user: String?
        if let at = hostPart.firstIndex(of: "@") {
            user = String(hostPart[..<at])
            hostPart = hostPart[hostPart.index(after: at)...]
        }
        guard !hostPart.isEmpty, !volume.isEmpty else { return nil }
        return (user, String(hostPart), volume)
    }
}

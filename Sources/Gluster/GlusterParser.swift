import Foundation
import GeoRepCore

/// Parses gluster's XML answers. Both generations that fleets run side by side are read:
/// GlusterFS 8 and later (`primary_*`, `secondary_*`) and GlusterFS 7 and earlier
/// (`master_*`, `slave_*`).
public enum GlusterParser {
    /// `volume geo-replication [vol [secondary]] status [detail]`: every session in the answer.
    /// `volumeIDs` (name → gluster UUID, from `volume info`) lets bricks get their stable ids.
    public static func statusSessions(
        _ text: String, volumeIDs: [String: String] = [:], exitCode: Int32 = 0, host: String = "local"
    ) throws(GlusterError) -> [ObservedSession] {
        let root = try CLIOutput.parse(stdout: text, stderr: "", exitCode: exitCode, host: host)
        guard let geoRep = root.child("geoRep") else { return [] }
        var result: [ObservedSession] = []
        for volume in geoRep.children("volume") {
            let volumeName = volume.value("name") ?? ""
            for session in volume.child("sessions")?.children("session") ?? [] {
                let pairs = session.children("pair")
                let key = session.known("session_secondary", "session_slave")
                let parsedKey = key.flatMap(parseSessionKey)
                let firstSecondary = pairs.first?.known("secondary", "slave").flatMap(SessionRef.parseSecondary)
                guard let spec = parsedKey?.spec ?? firstSecondary else {
                    throw .unparseable(raw: "a session of volume \(volumeName) names no secondary: \(text.prefix(500))")
                }
                var user = spec.user
                if user == nil, let u = pairs.first?.known("secondary_user", "slave_user"), u != "root" { user = u }
                let volumeID = volumeIDs[volumeName]
                let bricks = pairs.map { brick($0, volumeID: volumeID) }
                result.append(ObservedSession(
                    primaryVolume: volumeName, sessionKey: key, secondaryUser: user, secondaryHost: spec.host,
                    secondaryVolume: spec.volume, secondaryVolumeId: parsedKey?.secondaryVolumeID, bricks: bricks))
            }
        }
        return result
    }

    /// `<primary node uuid>:ssh://[user@]<host>::<volume>:<secondary volume uuid>`.
    static func parseSessionKey(_ key: String) -> (spec: (user: String?, host: String, volume: String), secondaryVolumeID: String?)? {
        guard let firstColon = key.firstIndex(of: ":") else { return nil }
        var rest = key[key.index(after: firstColon)...]
        var volumeID: String?
        if let last = rest.lastIndex(of: ":"), UUID(uuidString: String(rest[rest.index(after: last)...])) != nil,
           rest[..<last].hasSuffix(":") == false {
            volumeID = String(rest[rest.index(after: last)...])
            rest = rest[..<last]
        }
        guard let spec = SessionRef.parseSecondary(String(rest)) else { return nil }
        return (spec, volumeID)
    }

    static func brick(_ pair: XMLNode, volumeID: String?) -> BrickDetail {
        let node = pair.known("primary_node", "master_node") ?? ""
        let path = pair.known("primary_brick", "master_brick") ?? ""
        let raw = pair.value("status") ?? ""
        let secondary = pair.known("secondary", "slave").flatMap(SessionRef.parseSecondary)
        let completed = pair.known("checkpoint_completed").map { ["yes", "true", "1"].contains($0.lowercased()) }
        return BrickDetail(
            brickId: volumeID.map { StableID.brick(volumeID: $0, host: node, path: path) },
            primaryNode: node,
            primaryNodeUuid: pair.known("primary_node_uuid", "master_node_uuid"),
            primaryBrick: path,
            secondaryUser: pair.known("secondary_user", "slave_user"),
            secondaryHost: secondary?.host,
            secondaryNode: pair.known("secondary_node", "slave_node"),
            status: GeoRepStatus(glusterBrickStatus: raw),
            rawStatus: raw,
            crawlStatus: pair.known("crawl_status"),
            entry: pair.known("entry").flatMap { Int64($0) },
            data: pair.known("data").flatMap { Int64($0) },
            meta: pair.known("meta").flatMap { Int64($0) },
            failures: pair.known("failures").flatMap { Int64($0) },
            checkpointTime: time(pair.known("checkpoint_time")),
            checkpointCompleted: completed,
            checkpointCompletionTime: time(pair.known("checkpoint_completion_time")),
            lastSynced: time(pair.known("last_synced")),
            // GlusterFS before 3.7 only (the design's counters).
            filesSynced: pair.known("files_syncd", "files_synced").flatMap { Int64($0) },
            filesPending: pair.known("files_pending").flatMap { Int64($0) },
            bytesPending: pair.known("bytes_pending").flatMap { Int64($0) },
            deletesPending: pair.known("deletes_pending").flatMap { Int64($0) },
            filesSkipped: pair.known("files_skipped").flatMap { Int64($0) })
    }

    /// A time of `status detail`: `YYYY-MM-DD HH:MM:SS` in UTC. The XML carries gsyncd's `*_utc`
    /// values under the plain names (`last_synced` is `last_synced_utc`, cli-xml-output.c since
    /// GlusterFS 3.7); the table output shows the host's local time instead. Anything else is
    /// not a time gluster prints: nil, as for `N/A`.
    static func time(_ text: String?) -> Date? {
        text.flatMap(Timestamp.parseUTCWallClock)
    }

    /// `volume geo-replication … config`: option name → value (empty elements are empty strings).
    public static func config(_ text: String, exitCode: Int32 = 0, host: String = "local") throws(GlusterError) -> [String: String] {
        let root = try CLIOutput.parse(stdout: text, stderr: "", exitCode: exitCode, host: host)
        guard let config = root.child("geoRep")?.child("config") else { return [:] }
        var options: [String: String] = [:]
        for option in config.children where option.name != "message" {
            options[option.name] = option.text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return options
    }

    /// `volume info [name]`.
    public static func volumes(_ text: String, exitCode: Int32 = 0, host: String = "local") throws(GlusterError) -> [VolumeInfo] {
        let root = try CLIOutput.parse(stdout: text, stderr: "", exitCode: exitCode, host: host)
        let volumes = root.child("volInfo")?.child("volumes")?.children("volume") ?? []
        return volumes.map { v in
            let bricks = v.child("bricks")?.children("brick").compactMap { b -> VolumeInfo.Brick? in
                let name = b.value("name") ?? b.text.trimmingCharacters(in: .whitespacesAndNewlines)
                guard let colon = name.firstIndex(of: ":") else { return nil }
                return VolumeInfo.Brick(host: String(name[..<colon]), path: String(name[name.index(after: colon)...]),
                                        hostUuid: b.known("hostUuid") ?? b.attributes["uuid"])
            } ?? []
            return VolumeInfo(name: v.value("name") ?? "", id: v.value("id") ?? "", status: v.value("statusStr") ?? "", bricks: bricks)
        }
    }

    /// `pool list`.
    public static func pool(_ text: String, exitCode: Int32 = 0, host: String = "local") throws(GlusterError) -> [PoolPeer] {
        let root = try CLIOutput.parse(stdout: text, stderr: "", exitCode: exitCode, host: host)
        return (root.child("peerStatus")?.children("peer") ?? []).map {
            PoolPeer(uuid: $0.value("uuid") ?? "", hostname: $0.value("hostname") ?? "", connected: $0.value("connected") == "1")
        }
    }

    /// Any action (create, start, …): succeeds or throws the classified failure. Returns
    /// gluster's message (`opErrstr`), which is informative even on success
    /// ("geo-replication is not set up" for a stop of a stopped session).
    @discardableResult
    public static func action(_ text: String, stderr: String = "", exitCode: Int32 = 0, host: String = "local") throws(GlusterError) -> String {
        let root = try CLIOutput.parse(stdout: text, stderr: stderr, exitCode: exitCode, host: host)
        return root.value("opErrstr") ?? ""
    }
}

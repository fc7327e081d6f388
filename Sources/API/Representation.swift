import Foundation
import GeoRepCore

/// The resources in the original design's shapes (`georeplication-sessions`,
/// `georeplication-session` with `host`, `slavevolume`, `status`, `session_details` of
/// `session_detail`, `georeplication_options` of `option`), plus what the tables know beyond them.
enum Representation {
    static func sessions(_ rows: [SessionStore.Session], base: String) -> Document {
        Document("georeplication-sessions", children: rows.map { session($0, details: nil, base: base) }, isCollection: true,
                 itemName: "georeplication-session")
    }

    /// One session; `details` (the per-brick rows) only in the single-session view.
    ///
    /// The design's elements come first, in the design's order, and are always present (empty
    /// when unknown) so that a client written from the design finds each by its name; what the
    /// tables know beyond the design follows. `<id>` repeats the `id` attribute as the design's
    /// first child.
    static func session(_ row: SessionStore.Session, details: [SessionStore.Detail]?, lastCheckpoint: SessionStore.Checkpoint? = nil,
                        syncSchedule: Document? = nil, base: String) -> Document {
        let id = row.id.lowercasedString
        let href = "\(base)/\(id)"
        var children: [Document] = [
            .element("id", id),
            .element("host", row.secondaryHost),
            .element("slavevolume", row.secondaryVolume),
            .element("status", row.status),
        ]
        if let details {
            children.append(Document("session_details", children: details.map(detail), isCollection: true, itemName: "session_detail"))
        }
        let beyond: [Document?] = [
            .leaf("cluster_id", row.cluster),
            .leaf("master_volume_id", row.primaryVolumeID),
            .leaf("master_volume_name", row.primaryVolume),
            .leaf("session_key", row.sessionKey),
            .leaf("slave_host_name", row.secondaryHost),
            .leaf("slave_host_uuid", row.secondaryHostUUID),
            .leaf("slave_volume_name", row.secondaryVolume),
            .leaf("slave_volume_id", row.secondaryVolumeID),
            .leaf("user_name", row.secondaryUser ?? "root"),
            .leaf("observed_at", row.observedAt),
            lastCheckpoint.map(checkpoint),
            syncSchedule,
            Document("link", attributes: [("rel", "options"), ("href", "\(href)/options")]),
        ]
        children += beyond.compactMap { $0 }
        for action in ["start", "stop", "pause", "resume", "delete", "setoption", "resetoption", "checkpoint", "schedule"] {
            children.append(Document("link", attributes: [("rel", action), ("href", "\(href)/\(action)")]))
        }
        return Document("georeplication-session", attributes: [("href", href), ("id", id)], children: children)
    }

    /// The session's last checkpoint outcome (single-session view): `COMPLETED` or `STALLED`,
    /// with the bricks' times as the brick rows show them.
    static func checkpoint(_ row: SessionStore.Checkpoint) -> Document {
        let children: [Document?] = [
            .element("status", row.status),
            .element("checkpoint_time", row.checkpointTime),
            .element("completed_at", row.completedAt),
            .leaf("duration_seconds", row.durationSeconds),
            .leaf("stalled_reason", row.stalledReason),
            .leaf("active_bricks", row.activeBricks),
            .leaf("completed_bricks", row.completedBricks),
            .leaf("oldest_last_synced", row.oldestLastSynced),
            .leaf("observed_at", row.observedAt),
        ]
        return Document("last_checkpoint", children: children.compactMap { $0 })
    }

    /// One brick's row. Its `<id>` is derived (``detailID(session:brick:)``): the design gives a
    /// detail an id, the table keys it by session and brick.
    static func detail(_ row: SessionStore.Detail) -> Document {
        let brick = [row.primaryNode, row.primaryBrickDir].compactMap { $0 }.joined(separator: ":")
        let children: [Document?] = [
            .element("id", detailID(session: row.session, brick: row.brick).lowercasedString),
            Document("brick", attributes: [("id", row.brick.lowercasedString)], value: .string(brick)),
            .element("slaveNode", row.secondaryNode),
            .element("status", row.status),
            .element("checkpoint_status", row.checkpointStatus),
            .element("crawl_status", row.crawlStatus),
            .element("filesSkipped", row.filesSkipped),
            .element("filesPending", row.filesPending),
            .element("filesSynced", row.filesSynced),
            .leaf("bytes_pending", row.bytesPending),
            .leaf("deletes_pending", row.deletesPending),
            .leaf("data_pending", row.dataPending),
            .leaf("meta_pending", row.metaPending),
            .leaf("entry_pending", row.entryPending),
            .leaf("failures", row.failures),
            .leaf("last_synced_at", row.lastSyncedAt),
            .leaf("checkpoint_time", row.checkpointTime),
            .leaf("checkpoint_completed_time", row.checkpointCompletedTime),
            .leaf("is_checkpoint_completed", row.checkpointCompleted),
            .leaf("master_node", row.primaryNode),
            .leaf("master_node_uuid", row.primaryNodeUUID),
            .leaf("master_brick_dir", row.primaryBrickDir),
        ]
        return Document("session_detail", children: children.compactMap { $0 })
    }

    /// Each option has its own stable id, so that a client keying options by `<id>` keeps them
    /// apart (the session's id on every option collapsed them into one).
    static func options(_ rows: [SessionStore.Option], session: UUID) -> Document {
        Document("georeplication_options", children: rows.map { row in
            let id = optionID(session: session, key: row.key).lowercasedString
            return Document("option", attributes: [("id", id)], children: [
                Document("id", value: .string(id)),
                Document("key", value: .string(row.key)),
                Document("value", value: .string(row.value ?? "")),
            ])
        }, isCollection: true, itemName: "option")
    }

    /// An option's id: UUIDv5 of the session id and the option's key.
    static func optionID(session: UUID, key: String) -> UUID {
        StableID.uuid(name: "option:\(session.uuidString.lowercased()):\(key)")
    }

    /// A session detail's id: UUIDv5 of the session id and the brick id.
    static func detailID(session: UUID, brick: UUID) -> UUID {
        StableID.uuid(name: "session-detail:\(session.uuidString.lowercased()):\(brick.uuidString.lowercased())")
    }

    /// A command's state: `pending` until its result is stored, then its outcome. `session`
    /// (the session's resource path) is given once the command succeeded and the session exists,
    /// so that the answer to a create names the session it made, not only its key.
    static func command(id: UUID, row: SessionStore.CommandRecord?, session: String?, base: String) -> Document {
        let children: [Document?] = [
            .leaf("action", row?.action),
            .leaf("status", row?.outcome ?? "pending"),
            .leaf("message", row?.message ?? "accepted; waiting for a worker"),
            .leaf("error_code", row?.errorCode),
            .leaf("session_id", row?.session),
            .leaf("session", row?.sessionRef),
            .leaf("accepted_at", row?.acceptedAt),
            .leaf("finished_at", row?.finishedAt),
            session.map { href in
                Document("georeplication-session", attributes: [("href", href), ("id", row?.session?.lowercasedString ?? "")])
            },
            session.map { Document("link", attributes: [("rel", "session"), ("href", $0)]) },
        ]
        return Document("command", attributes: [("href", "\(base)/commands/\(id.uuidString.lowercased())"), ("id", id.uuidString.lowercased())],
                        children: children.compactMap { $0 })
    }

    /// The answer to an action: accepted, where to follow it, and the id of the session it is
    /// about (derived from its names, so known before the session exists).
    static func accepted(_ command: Command, base: String) -> Document {
        let id = command.commandId.uuidString.lowercased()
        return Document("action", children: [
            Document("status", value: .string("pending")),
            Document("command", attributes: [("href", "\(base)/commands/\(id)"), ("id", id)]),
            Document("session_id", value: .string(command.session.sessionID.uuidString.lowercased())),
        ])
    }

    static func fault(_ error: APIError) -> Document {
        Document("fault", children: [
            Document("reason", value: .string(error.status.reasonPhrase)),
            Document("detail", value: .string(error.detail)),
            Document("code", value: .string(error.code)),
        ])
    }
}

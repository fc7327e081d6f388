import Foundation
import GeoRepCore

/// The resources in the original design's shapes (`georeplication-sessions`,
/// `georeplication-session` with `host`, `slavevolume`, `status`, `session_details` of
/// `session_detail`, `georeplication_options` of `option`), plus what the tables know beyond them.
enum Representation {
    typealias Row = SessionStore.Row

    static func sessions(_ rows: [Row], base: String) -> Document {
        Document("georeplication-sessions", children: rows.map { session($0, details: nil, base: base) }, isCollection: true,
                 itemName: "georeplication-session")
    }

    /// One session; `details` (the per-brick rows) only in the single-session view.
    ///
    /// The design's elements come first, in the design's order, and are always present (empty
    /// when unknown) so that a client written from the design finds each by its name; what the
    /// tables know beyond the design follows. `<id>` repeats the `id` attribute as the design's
    /// first child.
    static func session(_ row: Row, details: [Row]?, lastCheckpoint: Row? = nil, base: String) -> Document {
        let id = row["session_id"] ?? ""
        let href = "\(base)/\(id)"
        var children: [Document] = [
            .element("id", id),
            .element("host", row["slave_host_name"]),
            .element("slavevolume", row["slave_volume_name"]),
            .element("status", row["status"]),
        ]
        if let details {
            children.append(Document("session_details", children: details.map(detail), isCollection: true, itemName: "session_detail"))
        }
        let beyond: [Document?] = [
            .leaf("cluster_id", row["cluster_id"]),
            .leaf("master_volume_id", row["master_volume_id"]),
            .leaf("master_volume_name", row["master_volume_name"]),
            .leaf("session_key", row["session_key"]),
            .leaf("slave_host_name", row["slave_host_name"]),
            .leaf("slave_host_uuid", row["slave_host_uuid"]),
            .leaf("slave_volume_name", row["slave_volume_name"]),
            .leaf("slave_volume_id", row["slave_volume_id"]),
            .leaf("user_name", row["user_name"] ?? "root"),
            .leaf("observed_at", row["observed_at"].map(isoTime)),
            lastCheckpoint.map(checkpoint),
            Document("link", attributes: [("rel", "options"), ("href", "\(href)/options")]),
        ]
        children += beyond.compactMap { $0 }
        for action in ["start", "stop", "pause", "resume", "delete", "setoption", "resetoption", "checkpoint"] {
            children.append(Document("link", attributes: [("rel", action), ("href", "\(href)/\(action)")]))
        }
        return Document("georeplication-session", attributes: [("href", href), ("id", id)], children: children)
    }

    /// The session's last checkpoint outcome (single-session view): `COMPLETED` or `STALLED`,
    /// with gluster's times (its clock, no zone) as the brick rows show them.
    static func checkpoint(_ row: Row) -> Document {
        let children: [Document?] = [
            .element("status", row["status"]),
            .element("checkpoint_time", row["checkpoint_time"]),
            .element("completed_at", row["completed_at"]),
            .leaf("duration_seconds", row["duration_seconds"]),
            .leaf("stalled_reason", row["stalled_reason"]),
            .leaf("active_bricks", int: row["active_bricks"]),
            .leaf("completed_bricks", int: row["completed_bricks"]),
            .leaf("oldest_last_synced", row["oldest_last_synced"]),
            .leaf("observed_at", row["observed_at"].map(isoTime)),
        ]
        return Document("last_checkpoint", children: children.compactMap { $0 })
    }

    /// One brick's row. Its `<id>` is derived (``detailID(session:brick:)``): the design gives a
    /// detail an id, the table keys it by session and brick.
    static func detail(_ row: Row) -> Document {
        let brick = [row["master_node"], row["master_brick_dir"]].compactMap { $0 }.joined(separator: ":")
        let brickID = row["master_brick_id"] ?? ""
        let id = UUID(uuidString: row["session_id"] ?? "").flatMap { session in
            UUID(uuidString: brickID).map { detailID(session: session, brick: $0).uuidString.lowercased() }
        }
        let children: [Document?] = [
            .element("id", id),
            Document("brick", attributes: [("id", brickID)], value: .string(brick)),
            .element("slaveNode", row["slave_host_name"]),
            .element("status", row["status"]),
            .element("checkpoint_status", row["checkpoint_status"]),
            .element("crawl_status", row["crawl_status"]),
            .element("filesSkipped", int: row["files_skipped"]),
            .element("filesPending", int: row["files_pending"]),
            .element("filesSynced", int: row["files_synced"]),
            .leaf("bytes_pending", int: row["bytes_pending"]),
            .leaf("deletes_pending", int: row["deletes_pending"]),
            .leaf("data_pending", int: row["data_pending"]),
            .leaf("meta_pending", int: row["meta_pending"]),
            .leaf("entry_pending", int: row["entry_pending"]),
            .leaf("failures", int: row["failures"]),
            .leaf("last_synced_at", row["last_synced_at"]),
            .leaf("checkpoint_time", row["checkpoint_time"]),
            .leaf("checkpoint_completed_time", row["checkpoint_completed_time"]),
            .leaf("is_checkpoint_completed", bool: row["is_checkpoint_completed"]),
            .leaf("master_node", row["master_node"]),
            .leaf("master_node_uuid", row["master_node_uuid"]),
            .leaf("master_brick_dir", row["master_brick_dir"]),
        ]
        return Document("session_detail", children: children.compactMap { $0 })
    }

    /// Each option has its own stable id, so that a client keying options by `<id>` keeps them
    /// apart (the session's id on every option collapsed them into one).
    static func options(_ rows: [Row], session: UUID) -> Document {
        Document("georeplication_options", children: rows.map { row in
            let key = row["config_key"] ?? ""
            return Document("option", attributes: [("id", optionID(session: session, key: key).uuidString.lowercased())], children: [
                Document("id", value: .string(optionID(session: session, key: key).uuidString.lowercased())),
                Document("key", value: .string(key)),
                Document("value", value: .string(row["config_value"] ?? "")),
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
    static func command(id: UUID, row: Row?, session: String?, base: String) -> Document {
        let children: [Document?] = [
            .leaf("action", row?["action"]),
            .leaf("status", row?["outcome"] ?? "pending"),
            .leaf("message", row?["message"] ?? "accepted; waiting for a worker"),
            .leaf("error_code", row?["error_code"]),
            .leaf("session_id", row?["session_id"]),
            .leaf("session", row?["session_ref"]),
            .leaf("accepted_at", row?["accepted_at"].map(isoTime)),
            .leaf("finished_at", row?["finished_at"].map(isoTime)),
            session.map { href in
                Document("georeplication-session", attributes: [("href", href), ("id", row?["session_id"] ?? "")])
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

    /// PostgreSQL's `2026-11-24 07:26:43.123+00` (or `+05:30`) as RFC 3339.
    static func isoTime(_ text: String) -> String {
        var t = text.replacingOccurrences(of: " ", with: "T")
        if t.hasSuffix("+00") || t.hasSuffix("+00:00") { return String(t.prefix { $0 != "+" }) + "Z" }
        // An offset of hours only gets its minutes.
        if let sign = t.lastIndex(where: { $0 == "+" || $0 == "-" }), t.distance(from: sign, to: t.endIndex) == 3,
           t[..<sign].contains("T") {
            t += ":00"
        }
        return t
    }
}

import Foundation

/// The fast path of ``MessageCodec/decodeEvent(_:)`` for the events a status storm is made of:
/// status changes of sessions and bricks, snapshots and deletions.
///
/// It reads our envelope in one pass (``JSONTree``) and builds the same values the Foundation
/// path builds: the same snake_case keys, optional fields missing or null, unknown keys ignored.
/// Whatever it is not sure about (another event type, a key spelled so that `JSONDecoder`'s
/// snake-case conversion might read it differently, a duplicate key, a number with a fraction,
/// a time in another spelling that `Timestamp` must judge) makes it decline, and the Foundation
/// path decides, so an event reads the same either way and an error is worded the same.
/// `EventDecoderTests` compare the two on generated events.
enum EventDecoder {
    typealias Declined = JSONTree.Declined

    /// The decoded envelope, or nil when the Foundation path must decide.
    static func decode(_ bytes: [UInt8]) -> (header: CloudEventHeader, event: Event)? {
        do {
            let tree = try bytes.withUnsafeBytes { (raw) throws(Declined) in try JSONTree.parse(raw) }
            let envelope = try Members(tree)
            let header = CloudEventHeader(
                specversion: try envelope.string("specversion"), id: try envelope.string("id"), source: try envelope.string("source"),
                type: try envelope.string("type"), time: try envelope.optionalDate("time"), subject: try envelope.optionalString("subject"))
            guard header.specversion == "1.0" else { throw Declined() }
            _ = try envelope.optionalString("datacontenttype")
            guard let data = try envelope.value("data") else { throw Declined() }
            let payload = try Members(data)
            let event: Event
            switch header.type {
            case "georep.session.status_changed": event = .sessionStatusChanged(try sessionStatusChanged(payload))
            case "georep.brick.status_changed": event = .brickStatusChanged(try brickStatusChanged(payload))
            case "georep.session.snapshot": event = .sessionSnapshot(try sessionSnapshot(payload))
            case "georep.session.deleted": event = .sessionDeleted(try sessionDeleted(payload))
            default: throw Declined()
            }
            return (header, event)
        } catch {
            return nil
        }
    }

    // MARK: Payloads

    private static func sessionStatusChanged(_ m: Members) throws(Declined) -> SessionStatusChanged {
        SessionStatusChanged(sessionId: try m.uuid("session_id"), session: try sessionRef(m.object("session")), from: try m.optionalStatus("from"),
                             to: try m.status("to"), observation: try observation(m.object("observation")))
    }

    private static func brickStatusChanged(_ m: Members) throws(Declined) -> BrickStatusChanged {
        BrickStatusChanged(sessionId: try m.uuid("session_id"), session: try sessionRef(m.object("session")), brickId: try m.optionalUUID("brick_id"),
                           brick: try m.string("brick"), from: try m.optionalStatus("from"), to: try m.status("to"),
                           observation: try observation(m.object("observation")))
    }

    private static func sessionDeleted(_ m: Members) throws(Declined) -> SessionDeleted {
        SessionDeleted(sessionId: try m.uuid("session_id"), session: try sessionRef(m.object("session")),
                       observation: try observation(m.object("observation")))
    }

    private static func sessionSnapshot(_ m: Members) throws(Declined) -> SessionSnapshot {
        guard case .array(let list) = try m.required("bricks") else { throw Declined() }
        var bricks: [BrickDetail] = []
        bricks.reserveCapacity(list.count)
        for item in list { bricks.append(try brickDetail(Members(item))) }
        var options: [String: String]?
        switch try m.value("options") {
        case nil, .null?: options = nil
        case .object(let pairs)?:
            // Dictionary keys are taken as they are (JSONDecoder does not convert them either).
            var dictionary: [String: String] = [:]
            dictionary.reserveCapacity(pairs.count)
            for (key, value) in pairs {
                guard case .string(let text) = value, dictionary.updateValue(text, forKey: key) == nil else { throw Declined() }
            }
            options = dictionary
        default: throw Declined()
        }
        return SessionSnapshot(
            sessionId: try m.uuid("session_id"), session: try sessionRef(m.object("session")), sessionKey: try m.optionalString("session_key"),
            primaryVolumeId: try m.optionalString("primary_volume_id"), secondaryVolumeId: try m.optionalString("secondary_volume_id"),
            secondaryHostUuid: try m.optionalString("secondary_host_uuid"), status: try m.status("status"), bricks: bricks,
            options: options, observation: try observation(m.object("observation")))
    }

    /// A brick time of a worker from before times were normalised (gluster's spelling) declines:
    /// the Foundation path reads those.
    private static func brickDetail(_ m: Members) throws(Declined) -> BrickDetail {
        BrickDetail(
            brickId: try m.optionalUUID("brick_id"), primaryNode: try m.string("primary_node"),
            primaryNodeUuid: try m.optionalString("primary_node_uuid"), primaryBrick: try m.string("primary_brick"),
            secondaryUser: try m.optionalString("secondary_user"), secondaryHost: try m.optionalString("secondary_host"),
            secondaryNode: try m.optionalString("secondary_node"), status: try m.status("status"), rawStatus: try m.string("raw_status"),
            crawlStatus: try m.optionalString("crawl_status"), entry: try m.optionalInt64("entry"), data: try m.optionalInt64("data"),
            meta: try m.optionalInt64("meta"), failures: try m.optionalInt64("failures"),
            checkpointTime: try m.optionalDate("checkpoint_time"), checkpointCompleted: try m.optionalBool("checkpoint_completed"),
            checkpointCompletionTime: try m.optionalDate("checkpoint_completion_time"), lastSynced: try m.optionalDate("last_synced"),
            filesSynced: try m.optionalInt64("files_synced"), filesPending: try m.optionalInt64("files_pending"),
            bytesPending: try m.optionalInt64("bytes_pending"), deletesPending: try m.optionalInt64("deletes_pending"),
            filesSkipped: try m.optionalInt64("files_skipped"))
    }

    /// As the synthesized `Decodable` reads it: the fields as sent, not normalised by `init`.
    private static func sessionRef(_ m: Members) throws(Declined) -> SessionRef {
        var ref = SessionRef(cluster: try m.string("cluster"), primaryVolume: try m.string("primary_volume"),
                             secondaryHost: "", secondaryVolume: try m.string("secondary_volume"))
        ref.secondaryHost = try m.string("secondary_host")
        ref.secondaryUser = try m.optionalString("secondary_user")
        return ref
    }

    private static func observation(_ m: Members) throws(Declined) -> Observation {
        let cause = try m.object("cause")
        // As Observation.Cause decodes: `command` needs its id, any other kind is the monitor.
        let kind = try cause.string("kind")
        return Observation(seq: try m.int64("seq"), at: try m.date("at"), cause: kind == "command" ? .command(try cause.uuid("command_id")) : .monitor)
    }

    /// `UUID(uuidString:)` without its `sscanf` (5% of the persister's time): the 36-character
    /// form in either case; anything else is asked of Foundation.
    static func uuid(_ text: String) -> UUID? {
        var text = text
        let parsed = text.withUTF8 { u -> UUID? in
            guard u.count == 36, u[8] == UInt8(ascii: "-"), u[13] == UInt8(ascii: "-"), u[18] == UInt8(ascii: "-"), u[23] == UInt8(ascii: "-")
            else { return nil }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(16)
            var i = 0
            while i < 36 {
                if i == 8 || i == 13 || i == 18 || i == 23 { i += 1; continue }
                guard let high = hexValue(u[i]), let low = hexValue(u[i + 1]) else { return nil }
                bytes.append(high << 4 | low)
                i += 2
            }
            return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        }
        return parsed ?? UUID(uuidString: text)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    // MARK: Reading members

    /// An object's members, read the way `JSONDecoder` with `convertFromSnakeCase` reads them.
    struct Members {
        let pairs: [(String, JSONTree)]

        init(_ tree: JSONTree) throws(Declined) {
            guard case .object(let pairs) = tree else { throw Declined() }
            // Keys the snake-case conversion could map onto one of ours in another spelling
            // (`sessionId`, `session__id`, `_session_id`) go to Foundation.
            for (key, _) in pairs where !Self.isPlainSnakeCase(key) { throw Declined() }
            self.pairs = pairs
        }

        static func isPlainSnakeCase(_ key: String) -> Bool {
            var previous: UInt8 = UInt8(ascii: "_")
            for byte in key.utf8 {
                if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { return false }
                if byte == UInt8(ascii: "_") && previous == UInt8(ascii: "_") { return false }
                previous = byte
            }
            return previous != UInt8(ascii: "_") || key.isEmpty
        }

        /// The member's value, nil when missing; a key given twice declines.
        func value(_ key: String) throws(Declined) -> JSONTree? {
            var found: JSONTree?
            for (k, v) in pairs where k == key {
                guard found == nil else { throw Declined() }
                found = v
            }
            return found
        }

        func required(_ key: String) throws(Declined) -> JSONTree {
            guard let value = try value(key) else { throw Declined() }
            return value
        }

        func object(_ key: String) throws(Declined) -> Members { try Members(required(key)) }

        func string(_ key: String) throws(Declined) -> String {
            guard case .string(let s) = try required(key) else { throw Declined() }
            return s
        }

        func optionalString(_ key: String) throws(Declined) -> String? {
            switch try value(key) {
            case nil, .null?: return nil
            case .string(let s)?: return s
            default: throw Declined()
            }
        }

        func int64(_ key: String) throws(Declined) -> Int64 {
            guard case .integer(let n) = try required(key) else { throw Declined() }
            return n
        }

        func optionalInt64(_ key: String) throws(Declined) -> Int64? {
            switch try value(key) {
            case nil, .null?: return nil
            case .integer(let n)?: return n
            default: throw Declined()
            }
        }

        func optionalBool(_ key: String) throws(Declined) -> Bool? {
            switch try value(key) {
            case nil, .null?: return nil
            case .bool(let b)?: return b
            default: throw Declined()
            }
        }

        /// A string field read by `parse`; declined when absent or when `parse` does not take it.
        func parsed<T>(_ key: String, _ parse: (String) -> T?) throws(Declined) -> T {
            guard let value = parse(try string(key)) else { throw Declined() }
            return value
        }

        /// ``parsed(_:_:)`` for a field that may be absent or null.
        func optionalParsed<T>(_ key: String, _ parse: (String) -> T?) throws(Declined) -> T? {
            guard let text = try optionalString(key) else { return nil }
            guard let value = parse(text) else { throw Declined() }
            return value
        }

        func uuid(_ key: String) throws(Declined) -> UUID { try parsed(key, EventDecoder.uuid) }
        func optionalUUID(_ key: String) throws(Declined) -> UUID? { try optionalParsed(key, EventDecoder.uuid) }
        func status(_ key: String) throws(Declined) -> GeoRepStatus { try parsed(key, GeoRepStatus.init(rawValue:)) }
        func optionalStatus(_ key: String) throws(Declined) -> GeoRepStatus? { try optionalParsed(key, GeoRepStatus.init(rawValue:)) }
        func date(_ key: String) throws(Declined) -> Date { try parsed(key, Timestamp.parse) }
        func optionalDate(_ key: String) throws(Declined) -> Date? { try optionalParsed(key, Timestamp.parse) }
    }
}

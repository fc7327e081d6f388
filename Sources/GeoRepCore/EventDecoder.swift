import Foundation

/// The fast path of ``MessageCodec/decodeEvent(_:)`` for the events a status storm is made of:
/// status changes of sessions and bricks, snapshots, deletions, and the commands accepted and
/// their results beside them.
///
/// It reads our envelope in one pass (``JSONTape``) and builds the same values the Foundation
/// path builds: the same snake_case keys, optional fields missing or null, unknown keys ignored.
/// Whatever it is not sure about (another event type, a key spelled so that `JSONDecoder`'s
/// snake-case conversion might read it differently, a duplicate key, a number with a fraction,
/// a time in another spelling that `Timestamp` must judge) makes it decline, and the Foundation
/// path decides, so an event reads the same either way and an error is worded the same.
/// `EventDecoderTests` compare the two on generated events.
enum EventDecoder {
    typealias Declined = JSONTape.Declined

    /// The decoded envelope, or nil when the Foundation path must decide.
    static func decode(_ bytes: [UInt8]) -> (header: CloudEventHeader, event: Event)? {
        do {
            return try bytes.withUnsafeBytes { (raw) throws(Declined) in
                let tape = try JSONTape.parse(raw)
                let envelope = try Members(tape, 0)
                let header = CloudEventHeader(
                    specversion: try envelope.string("specversion"), id: try envelope.string("id"), source: try envelope.string("source"),
                    type: try envelope.string("type"), time: try envelope.optionalDate("time"), subject: try envelope.optionalString("subject"))
                guard header.specversion == "1.0" else { throw Declined() }
                _ = try envelope.optionalString("datacontenttype")
                let payload = try envelope.object("data")
                let event: Event
                switch header.type {
                case "georep.session.status_changed": event = .sessionStatusChanged(try sessionStatusChanged(payload))
                case "georep.brick.status_changed": event = .brickStatusChanged(try brickStatusChanged(payload))
                case "georep.session.snapshot": event = .sessionSnapshot(try sessionSnapshot(payload))
                case "georep.session.deleted": event = .sessionDeleted(try sessionDeleted(payload))
                case "georep.command.accepted": event = .commandAccepted(try commandAccepted(payload))
                case "georep.command.succeeded", "georep.command.failed", "georep.command.rejected":
                    event = .commandResult(try commandResult(payload))
                default: throw Declined()
                }
                return (header, event)
            }
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

    private static func commandAccepted(_ m: Members) throws(Declined) -> CommandAccepted {
        CommandAccepted(commandId: try m.uuid("command_id"), action: try m.string("action"), session: try sessionRef(m.object("session")),
                        sessionId: try m.uuid("session_id"), sender: try m.string("sender"), acceptedAt: try m.date("accepted_at"))
    }

    /// A result with an option grant's record (rare, and with nested kinds) is left to Foundation.
    private static func commandResult(_ m: Members) throws(Declined) -> CommandResult {
        guard try m.isAbsentOrNull("grant") else { throw Declined() }
        var result = CommandResult(
            commandId: try m.optionalUUID("command_id"), action: try m.string("action"), session: try m.optionalObject("session").map(sessionRef),
            outcome: try m.parsed("outcome", CommandResult.Outcome.init(rawValue:)), message: try m.string("message"),
            error: try m.optionalObject("error").map { (e) throws(Declined) in
                ErrorInfo(code: try e.string("code"), message: try e.string("message"), retryable: try e.bool("retryable"),
                          detail: try e.optionalString("detail"))
            },
            finishedAt: try m.date("finished_at"))
        // As sent, not as `init` derives it from the session.
        result.sessionId = try m.optionalUUID("session_id")
        return result
    }

    private static func sessionSnapshot(_ m: Members) throws(Declined) -> SessionSnapshot {
        let tape = m.tape
        let list = try m.required("bricks")
        guard tape.nodes[list].kind == .array else { throw Declined() }
        var bricks: [BrickDetail] = []
        bricks.reserveCapacity(Int(tape.nodes[list].length))
        var item = list + 1
        for _ in 0..<tape.nodes[list].length {
            bricks.append(try brickDetail(Members(tape, item)))
            item = Int(tape.nodes[item].next)
        }
        var options: [String: String]?
        if let node = try m.value("options"), tape.nodes[node].kind != .null {
            guard tape.nodes[node].kind == .object else { throw Declined() }
            // Dictionary keys are taken as they are (JSONDecoder does not convert them either).
            var dictionary: [String: String] = [:]
            dictionary.reserveCapacity(Int(tape.nodes[node].length))
            var key = node + 1
            for _ in 0..<tape.nodes[node].length {
                let value = key + 1
                guard tape.nodes[value].kind == .string,
                      dictionary.updateValue(try tape.string(value), forKey: try tape.string(key)) == nil else { throw Declined() }
                key = Int(tape.nodes[value].next)
            }
            options = dictionary
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
        return text.withUTF8 { uuid(utf8: UnsafeRawBufferPointer($0)) } ?? UUID(uuidString: text)
    }

    /// The 36-character form in either case from the bytes of a string, or nil.
    static func uuid(utf8 u: UnsafeRawBufferPointer) -> UUID? {
        guard u.count == 36, u[8] == UInt8(ascii: "-"), u[13] == UInt8(ascii: "-"), u[18] == UInt8(ascii: "-"), u[23] == UInt8(ascii: "-")
        else { return nil }
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let complete = withUnsafeMutableBytes(of: &bytes) { out -> Bool in
            var i = 0, o = 0
            while i < 36 {
                if i == 8 || i == 13 || i == 18 || i == 23 { i += 1; continue }
                guard let high = hexValue(u[i]), let low = hexValue(u[i + 1]) else { return false }
                out[o] = high << 4 | low
                o += 1
                i += 2
            }
            return true
        }
        return complete ? UUID(uuid: bytes) : nil
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
        let tape: JSONTape
        /// The object's node.
        let node: Int

        init(_ tape: JSONTape, _ node: Int) throws(Declined) {
            guard tape.nodes[node].kind == .object else { throw Declined() }
            // Keys the snake-case conversion could map onto one of ours in another spelling
            // (`sessionId`, `session__id`, `_session_id`), or written with escapes, go to Foundation.
            var key = node + 1
            for _ in 0..<tape.nodes[node].length {
                guard !tape.nodes[key].flag, Self.isPlainSnakeCase(tape.raw(key)) else { throw Declined() }
                key = Int(tape.nodes[key + 1].next)
            }
            self.tape = tape
            self.node = node
        }

        static func isPlainSnakeCase(_ key: UnsafeRawBufferPointer) -> Bool {
            var previous: UInt8 = UInt8(ascii: "_")
            for byte in key {
                if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { return false }
                if byte == UInt8(ascii: "_") && previous == UInt8(ascii: "_") { return false }
                previous = byte
            }
            return previous != UInt8(ascii: "_") || key.isEmpty
        }

        /// The member's value node, nil when missing; a key given twice declines.
        func value(_ key: StaticString) throws(Declined) -> Int? {
            var found: Int?
            var k = node + 1
            for _ in 0..<tape.nodes[node].length {
                if tape.isKey(k, key) {
                    guard found == nil else { throw Declined() }
                    found = k + 1
                }
                k = Int(tape.nodes[k + 1].next)
            }
            return found
        }

        func required(_ key: StaticString) throws(Declined) -> Int {
            guard let value = try value(key) else { throw Declined() }
            return value
        }

        /// The member's node unless it is missing or null.
        func present(_ key: StaticString) throws(Declined) -> Int? {
            guard let value = try value(key), tape.nodes[value].kind != .null else { return nil }
            return value
        }

        func isAbsentOrNull(_ key: StaticString) throws(Declined) -> Bool { try present(key) == nil }

        func object(_ key: StaticString) throws(Declined) -> Members { try Members(tape, required(key)) }

        func optionalObject(_ key: StaticString) throws(Declined) -> Members? {
            guard let value = try present(key) else { return nil }
            return try Members(tape, value)
        }

        func string(_ key: StaticString) throws(Declined) -> String { try tape.string(required(key)) }

        func optionalString(_ key: StaticString) throws(Declined) -> String? {
            guard let value = try present(key) else { return nil }
            return try tape.string(value)
        }

        func int64(_ key: StaticString) throws(Declined) -> Int64 {
            let value = try required(key)
            guard tape.nodes[value].kind == .integer else { throw Declined() }
            return tape.nodes[value].integer
        }

        func optionalInt64(_ key: StaticString) throws(Declined) -> Int64? {
            guard let value = try present(key) else { return nil }
            guard tape.nodes[value].kind == .integer else { throw Declined() }
            return tape.nodes[value].integer
        }

        func bool(_ key: StaticString) throws(Declined) -> Bool {
            let value = try required(key)
            guard tape.nodes[value].kind == .bool else { throw Declined() }
            return tape.nodes[value].flag
        }

        func optionalBool(_ key: StaticString) throws(Declined) -> Bool? {
            guard let value = try present(key) else { return nil }
            guard tape.nodes[value].kind == .bool else { throw Declined() }
            return tape.nodes[value].flag
        }

        /// A string field read by `parse`; declined when absent or when `parse` does not take it.
        func parsed<T>(_ key: StaticString, _ parse: (String) -> T?) throws(Declined) -> T {
            guard let value = parse(try string(key)) else { throw Declined() }
            return value
        }

        /// ``parsed(_:_:)`` for a field that may be absent or null.
        func optionalParsed<T>(_ key: StaticString, _ parse: (String) -> T?) throws(Declined) -> T? {
            guard let text = try optionalString(key) else { return nil }
            guard let value = parse(text) else { throw Declined() }
            return value
        }

        /// A field read from its bytes by `fast`, or from its text by `parse` when `fast` does not take them.
        func bytesParsed<T>(_ node: Int, _ fast: (UnsafeRawBufferPointer) -> T?, _ parse: (String) -> T?) throws(Declined) -> T {
            guard tape.nodes[node].kind == .string else { throw Declined() }
            if !tape.nodes[node].flag, let value = fast(tape.raw(node)) { return value }
            guard let value = parse(try tape.string(node)) else { throw Declined() }
            return value
        }

        func uuid(_ key: StaticString) throws(Declined) -> UUID { try bytesParsed(required(key), EventDecoder.uuid(utf8:), EventDecoder.uuid) }
        func optionalUUID(_ key: StaticString) throws(Declined) -> UUID? {
            guard let value = try present(key) else { return nil }
            return try bytesParsed(value, EventDecoder.uuid(utf8:), EventDecoder.uuid)
        }
        func status(_ key: StaticString) throws(Declined) -> GeoRepStatus { try parsed(key, GeoRepStatus.init(rawValue:)) }
        func optionalStatus(_ key: StaticString) throws(Declined) -> GeoRepStatus? { try optionalParsed(key, GeoRepStatus.init(rawValue:)) }
        func date(_ key: StaticString) throws(Declined) -> Date { try bytesParsed(required(key), Timestamp.parseOwnSpelling(utf8:), Timestamp.parse) }
        func optionalDate(_ key: StaticString) throws(Declined) -> Date? {
            guard let value = try present(key) else { return nil }
            return try bytesParsed(value, Timestamp.parseOwnSpelling(utf8:), Timestamp.parse)
        }
    }
}

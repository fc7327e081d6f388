import Foundation

/// Encodes and decodes every message of the service: snake_case JSON, ISO 8601 times with
/// fractional seconds, CloudEvents structured envelopes. Errors are ``MessageError``s that say
/// which field is wrong and how.
public enum MessageCodec {
    /// Larger messages are refused before parsing (a command is well under 1 KiB).
    public static let maxMessageBytes = 256 * 1024
    /// The AMQP content type of every message.
    public static let contentType = "application/cloudevents+json"

    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Timestamp.format(date))
        }
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            if let date = Timestamp.parse(text) { return date }
            // Workers before times were normalised sent a brick's times as gluster spells them.
            if let key = decoder.codingPath.last?.stringValue, BrickDetail.glusterTimeKeys.contains(key),
               let date = Timestamp.parseUTCWallClock(text) {
                return date
            }
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an RFC 3339 time: \(text)")
        }
        return d
    }

    // MARK: Commands

    public static func encode(_ command: Command, source: String) throws -> [UInt8] {
        let envelope = CloudEvent(
            id: command.commandId.uuidString.lowercased(), source: source, type: command.eventType,
            time: command.issuedAt, subject: command.session.key, data: command)
        return Array(try encoder().encode(envelope))
    }

    /// Reads a command envelope and validates every name in it.
    public static func decodeCommand(_ bytes: [UInt8]) throws(MessageError) -> Command {
        let data = try checkedData(bytes)
        let header = try decodeHeader(data)
        guard header.type.hasPrefix("georep.command.") else {
            throw .notAnEnvelope("type \"\(ValidationError.printable(header.type))\" is not a command type (georep.command.<action>)")
        }
        let wire = try decode(CloudEvent<CommandWire>.self, from: data).data
        guard let action = CommandAction(rawValue: wire.action) else { throw .unknownAction(wire.action) }
        let command = Command(
            commandId: wire.commandId, action: action, session: wire.session,
            options: wire.options ?? CommandOptions(), sender: wire.sender ?? "unknown",
            issuedAt: wire.issuedAt ?? header.time ?? Date())
        do { try command.validate() } catch { throw .invalid(error) }
        return command
    }

    /// What can be salvaged from a message that failed ``decodeCommand(_:)``, so that the
    /// rejection event still names the command id, action and session when they were readable.
    public static func salvageCommand(_ bytes: [UInt8]) -> (commandId: UUID?, action: String, session: SessionRef?) {
        guard bytes.count <= maxMessageBytes,
              let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let data = object["data"] as? [String: Any]
        else { return (nil, "unknown", nil) }
        let id = (data["command_id"] as? String).flatMap(UUID.init(uuidString:))
        let action = (data["action"] as? String).map { String($0.prefix(64)) } ?? "unknown"
        var session: SessionRef?
        // Only an object can be a session; JSONSerialization traps (not throws) on a bare string.
        if let s = data["session"] as? [String: Any], JSONSerialization.isValidJSONObject(s),
           let json = try? JSONSerialization.data(withJSONObject: s),
           let ref = try? decoder().decode(SessionRef.self, from: json),
           (try? ref.validate()) != nil {
            session = ref
        }
        return (id, action, session)
    }

    // MARK: Events

    public static func encode(_ event: Event, id: UUID = UUID(), source: String, time: Date = Date()) throws -> [UInt8] {
        // Opens the payload's type: the envelope is generic over it.
        func encoded<P: EventPayload>(_ payload: P) throws -> Data {
            try encoder().encode(CloudEvent(id: id.uuidString.lowercased(), source: source, type: event.type, time: time,
                                            subject: payload.subject, data: payload))
        }
        return Array(try encoded(event.payload))
    }

    public static func decodeEvent(_ bytes: [UInt8]) throws(MessageError) -> (header: CloudEventHeader, event: Event) {
        guard bytes.count <= maxMessageBytes else { throw .tooLarge(bytes: bytes.count, limit: maxMessageBytes) }
        // Status storms are made of a few event types: read those in one pass (EventDecoder);
        // anything it is not sure of, and every error, is judged here as before.
        if let fast = EventDecoder.decode(bytes) { return fast }
        return try decodeEventWithFoundation(bytes)
    }

    /// ``decodeEvent(_:)`` without its fast path: for everything the fast path declines, and
    /// for the tests that compare the two.
    static func decodeEventWithFoundation(_ bytes: [UInt8]) throws(MessageError) -> (header: CloudEventHeader, event: Event) {
        let data = try checkedData(bytes)
        let header = try decodeHeader(data)
        let event: Event
        switch header.type {
        case "georep.command.succeeded", "georep.command.failed", "georep.command.rejected":
            event = .commandResult(try decode(CloudEvent<CommandResult>.self, from: data).data)
        case "georep.session.status_changed":
            event = .sessionStatusChanged(try decode(CloudEvent<SessionStatusChanged>.self, from: data).data)
        case "georep.brick.status_changed":
            event = .brickStatusChanged(try decode(CloudEvent<BrickStatusChanged>.self, from: data).data)
        case "georep.session.snapshot":
            event = .sessionSnapshot(try decode(CloudEvent<SessionSnapshot>.self, from: data).data)
        case "georep.session.deleted":
            event = .sessionDeleted(try decode(CloudEvent<SessionDeleted>.self, from: data).data)
        case "georep.cluster.inventory":
            event = .clusterInventory(try decode(CloudEvent<ClusterInventory>.self, from: data).data)
        case "georep.command.accepted":
            event = .commandAccepted(try decode(CloudEvent<CommandAccepted>.self, from: data).data)
        case "georep.cluster.unavailable", "georep.cluster.available":
            let availability = try decode(CloudEvent<ClusterAvailability>.self, from: data).data
            event = try agreeing(.clusterAvailability(availability), header, field: "data.available", value: String(availability.available))
        case "georep.session.checkpoint.completed":
            event = .checkpointCompleted(try decode(CloudEvent<CheckpointCompleted>.self, from: data).data)
        case "georep.session.checkpoint.stalled":
            event = .checkpointStalled(try decode(CloudEvent<CheckpointStalled>.self, from: data).data)
        case "georep.command.waiting":
            event = .commandWaiting(try decode(CloudEvent<CommandWaiting>.self, from: data).data)
        case "georep.session.schedule.set":
            event = .scheduleSet(try decode(CloudEvent<ScheduleSet>.self, from: data).data)
        case "georep.session.window.opened":
            event = .windowOpened(try decode(CloudEvent<SyncWindowOpened>.self, from: data).data)
        case "georep.session.window.completed", "georep.session.window.missed":
            let closed = try decode(CloudEvent<SyncWindowClosed>.self, from: data).data
            event = try agreeing(.windowClosed(closed), header, field: "data.outcome", value: closed.outcome.rawValue)
        default:
            throw .unknownEventType(header.type)
        }
        return (header, event)
    }

    // MARK: Helpers

    /// An event whose type a field of its data decides (available, outcome): the two must agree.
    private static func agreeing(_ event: Event, _ header: CloudEventHeader, field: String, value: String) throws(MessageError) -> Event {
        guard event.type == header.type else {
            throw .invalid(ValidationError(field: field, value: value, reason: "must agree with the type \(header.type)"))
        }
        return event
    }

    private struct CommandWire: Codable, Sendable {
        var commandId: UUID
        var action: String
        var session: SessionRef
        var options: CommandOptions?
        var sender: String?
        var issuedAt: Date?
    }

    private static func checkedData(_ bytes: [UInt8]) throws(MessageError) -> Data {
        guard bytes.count <= maxMessageBytes else { throw .tooLarge(bytes: bytes.count, limit: maxMessageBytes) }
        let data = Data(bytes)
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw .malformedJSON(bytes.isEmpty ? "empty body" : "it does not parse as a JSON object")
        }
        return data
    }

    private static func decodeHeader(_ data: Data) throws(MessageError) -> CloudEventHeader {
        let header: CloudEventHeader
        do { header = try decoder().decode(CloudEventHeader.self, from: data) } catch {
            throw .notAnEnvelope(describe(error))
        }
        guard header.specversion == "1.0" else { throw .notAnEnvelope("specversion must be \"1.0\"") }
        return header
    }

    private static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(MessageError) -> T {
        do { return try decoder().decode(type, from: data) } catch let error as DecodingError {
            let (path, reason) = pathAndReason(error)
            throw .badField(path: path, reason: reason)
        } catch {
            throw .malformedJSON(String(describing: error))
        }
    }

    private static func describe(_ error: Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        let (path, reason) = pathAndReason(error)
        return "\(path): \(reason)"
    }

    private static func pathAndReason(_ error: DecodingError) -> (String, String) {
        func join(_ path: [CodingKey], _ last: CodingKey? = nil) -> String {
            let keys = path + (last.map { [$0] } ?? [])
            return keys.isEmpty ? "(root)" : keys.map { $0.intValue.map { "[\($0)]" } ?? snake($0.stringValue) }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let ctx): return (join(ctx.codingPath, key), "is required")
        case .typeMismatch(let type, let ctx): return (join(ctx.codingPath), "expected \(type)")
        case .valueNotFound(let type, let ctx): return (join(ctx.codingPath), "expected \(type), found null")
        case .dataCorrupted(let ctx): return (join(ctx.codingPath), ctx.debugDescription)
        @unknown default: return ("(root)", String(describing: error))
        }
    }

    private static func snake(_ key: String) -> String {
        var out = ""
        for ch in key {
            if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }
}

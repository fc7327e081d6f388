/// Why a message could not be taken: each case carries enough to fix the sender.
public enum MessageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not JSON at all, or not an object.
    case malformedJSON(String)
    /// Not a CloudEvents 1.0 structured envelope.
    case notAnEnvelope(String)
    /// A required field is missing or has the wrong type; `path` is its JSON path.
    case badField(path: String, reason: String)
    case unknownAction(String)
    case unknownEventType(String)
    case invalid(ValidationError)
    case tooLarge(bytes: Int, limit: Int)

    /// A stable, machine-readable code.
    public var code: String {
        switch self {
        case .malformedJSON: "malformed_json"
        case .notAnEnvelope: "not_an_envelope"
        case .badField: "bad_field"
        case .unknownAction: "unknown_action"
        case .unknownEventType: "unknown_event_type"
        case .invalid: "invalid_value"
        case .tooLarge: "too_large"
        }
    }

    public var description: String {
        switch self {
        case .malformedJSON(let why): "the message is not a JSON object: \(why)"
        case .notAnEnvelope(let why): "the message is not a CloudEvents 1.0 structured envelope: \(why)"
        case .badField(let path, let reason): "field \(path): \(reason)"
        case .unknownAction(let action):
            "unknown action \"\(ValidationError.printable(action))\"; known actions: \(CommandAction.allCases.map(\.rawValue).joined(separator: ", "))"
        case .unknownEventType(let type): "unknown event type \"\(ValidationError.printable(type))\""
        case .invalid(let error): error.description
        case .tooLarge(let bytes, let limit): "the message has \(bytes) bytes; the limit is \(limit)"
        }
    }

    public var errorInfo: ErrorInfo { ErrorInfo(code: code, message: description, retryable: false) }
}

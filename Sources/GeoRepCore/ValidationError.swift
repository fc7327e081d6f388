/// A value that may not reach gluster, ssh or a routing key, and why.
///
/// Validation happens before any process is started: a name that fails here never
/// becomes an argument of anything.
public struct ValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The field that was checked, e.g. `session.primary_volume`.
    public var field: String
    /// The offending value, made printable and cut to a readable length.
    public var value: String
    /// What is wrong and what is accepted instead.
    public var reason: String

    public init(field: String, value: String, reason: String) {
        self.field = field
        self.value = ValidationError.printable(value)
        self.reason = reason
    }

    public var description: String { "invalid \(field) \"\(value)\": \(reason)" }

    /// `value` with control characters escaped and cut to 80 characters, safe to echo in messages and logs.
    public static func printable(_ value: String) -> String {
        let escaped = value.unicodeScalars.prefix(80).map { scalar -> String in
            scalar.value < 0x20 || scalar.value == 0x7F ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }.joined()
        return value.unicodeScalars.count > 80 ? escaped + "…" : escaped
    }
}

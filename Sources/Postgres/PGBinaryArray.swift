import Foundation

/// A one-dimensional array in PostgreSQL's binary format, for a parameter sent as binary
/// (``PGParameter/binary(_:)``) to `unnest($1::uuid[], …)`.
///
/// Why: as text, every element of a batch's arrays was spelt out by the persister (UUIDs, times,
/// numbers) and parsed again by the backend (`array_in`, `uuid_in`, `timestamptz_in`: an eighth
/// of its time); in binary a UUID is its 16 bytes and a time its microseconds.
public struct PGBinaryArray: Sendable {
    /// The element type; it must be the one the statement casts the parameter to (`$1::varchar[]`
    /// takes `.varchar`, not `.text`): PostgreSQL refuses any other.
    public enum Element: UInt32, Sendable {
        case bool = 16
        case int8 = 20
        case text = 25
        case varchar = 1043
        case timestamp = 1114
        case timestamptz = 1184
        case uuid = 2950
    }

    public let element: Element
    private var body: [UInt8] = []
    public private(set) var count = 0
    private var hasNull = false

    public init(_ element: Element, capacity: Int = 0) {
        self.element = element
        body.reserveCapacity(capacity * 20)
    }

    public mutating func append(uuid: UUID?) {
        precondition(element == .uuid)
        guard let uuid else { return appendNull() }
        put(Int32(16))
        withUnsafeBytes(of: uuid.uuid) { body.append(contentsOf: $0) }
        count += 1
    }

    public mutating func append(_ value: Int64?) {
        precondition(element == .int8)
        guard let value else { return appendNull() }
        put(Int32(8))
        put(value)
        count += 1
    }

    public mutating func append(_ value: Bool?) {
        precondition(element == .bool)
        guard let value else { return appendNull() }
        put(Int32(1))
        body.append(value ? 1 : 0)
        count += 1
    }

    public mutating func append(text: String?) {
        precondition(element == .text || element == .varchar)
        guard let text else { return appendNull() }
        let utf8 = text.utf8
        put(Int32(utf8.count))
        body.append(contentsOf: utf8)
        count += 1
    }

    /// A time to the millisecond, as the text parameters had it (`Timestamp.format`): PostgreSQL
    /// keeps microseconds since 2000-01-01 UTC (for `timestamp`, the same number read as UTC).
    public mutating func append(date: Date?) {
        precondition(element == .timestamptz || element == .timestamp)
        guard let date else { return appendNull() }
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        put(Int32(8))
        put(millis * 1000 - 946_684_800_000_000)
        count += 1
    }

    /// The array as PostgreSQL's `array_recv` reads it.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(20 + body.count)
        func put32(_ v: Int32) { withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) } }
        guard count > 0 else {
            // No dimensions at all: PostgreSQL's empty array.
            put32(0); put32(0); put32(Int32(bitPattern: element.rawValue))
            return out
        }
        put32(1)
        put32(hasNull ? 1 : 0)
        put32(Int32(bitPattern: element.rawValue))
        put32(Int32(count))
        put32(1)
        out.append(contentsOf: body)
        return out
    }

    private mutating func appendNull() {
        put(Int32(-1))
        hasNull = true
        count += 1
    }

    private mutating func put(_ v: Int32) { withUnsafeBytes(of: v.bigEndian) { body.append(contentsOf: $0) } }
    private mutating func put(_ v: Int64) { withUnsafeBytes(of: v.bigEndian) { body.append(contentsOf: $0) } }
}

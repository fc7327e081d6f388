import Foundation

// One spelling of every id: lower case, as PostgreSQL prints a uuid and the API serves it.
// Foundation encodes a UUID as `uuidString`, upper case, so an event said FA8A1487-… where the
// row said fa8a1487-… and every consumer joining them had to fold case. These overloads are
// more specific than the containers' generic `encode`, so every Codable type that imports this
// module (synthesized or hand-written) writes its UUIDs lower case; decoding accepts either.

extension KeyedEncodingContainer {
    /// A UUID as its lower-case string.
    public mutating func encode(_ value: UUID, forKey key: Key) throws {
        try encode(value.uuidString.lowercased(), forKey: key)
    }

    /// A UUID as its lower-case string; nothing when nil.
    public mutating func encodeIfPresent(_ value: UUID?, forKey key: Key) throws {
        try encodeIfPresent(value.map { $0.uuidString.lowercased() }, forKey: key)
    }

    /// UUIDs as lower-case strings.
    public mutating func encode(_ value: [UUID], forKey key: Key) throws {
        try encode(value.map { $0.uuidString.lowercased() }, forKey: key)
    }

    /// UUIDs as lower-case strings; nothing when nil.
    public mutating func encodeIfPresent(_ value: [UUID]?, forKey key: Key) throws {
        try encodeIfPresent(value.map { $0.map { $0.uuidString.lowercased() } }, forKey: key)
    }
}

extension UUID {
    /// The one spelling of an id everywhere: events, rows, the API, logs (`fa8a1487-…`).
    public var lowercasedString: String { uuidString.lowercased() }
}

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
    /// Written digit by digit: Foundation's `uuidString` formats through `snprintf`, which was a
    /// tenth of the persister's writing time.
    public var lowercasedString: String {
        withUnsafeBytes(of: uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { out in
                let digits: StaticString = "0123456789abcdef"
                var o = 0
                for (i, byte) in raw.enumerated() {
                    if i == 4 || i == 6 || i == 8 || i == 10 {
                        out[o] = UInt8(ascii: "-")
                        o += 1
                    }
                    out[o] = digits.utf8Start[Int(byte >> 4)]
                    out[o + 1] = digits.utf8Start[Int(byte & 0x0F)]
                    o += 2
                }
                return o
            }
        }
    }
}

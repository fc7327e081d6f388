/// PostgreSQL array literals for text-format parameters, so that one statement can carry a
/// whole batch (`unnest($1::uuid[], $2::text[], …)`) instead of one round trip per row.
public enum PGArray {
    /// `{"a","b",NULL}`; every element quoted, `"` and `\` escaped.
    public static func literal(_ values: [String?]) -> String {
        // Byte by byte: a UTF-8 continuation byte is never `"` or `\`, so escaping the bytes
        // escapes the characters, without the cost of appending scalars one at a time.
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(values.count * 40 + 2)
        for (i, value) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            guard let value else { out.append(contentsOf: "NULL".utf8); continue }
            out.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}

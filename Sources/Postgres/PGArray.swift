/// PostgreSQL array literals for text-format parameters, so that one statement can carry a
/// whole batch (`unnest($1::uuid[], $2::text[], …)`) instead of one round trip per row.
public enum PGArray {
    /// `{"a","b",NULL}`; every element quoted, `"` and `\` escaped.
    public static func literal(_ values: [String?]) -> String {
        var out = "{"
        out.reserveCapacity(values.count * 40)
        for (i, value) in values.enumerated() {
            if i > 0 { out += "," }
            guard let value else { out += "NULL"; continue }
            out += "\""
            for ch in value.unicodeScalars {
                if ch == "\"" || ch == "\\" { out += "\\" }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }
}

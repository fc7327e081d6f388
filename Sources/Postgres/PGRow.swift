import Foundation

/// One row of a ``PGResult``, read by column name and converted from libpq's text format.
///
/// A column the statement did not select, or a value that is not of the asked type, throws
/// ``PGError/unreadable(column:reason:)`` instead of reading as NULL: a misspelt name in a typed
/// row fails the first test that reads it, where a `[String: String]` lookup silently said nil.
public struct PGRow: Sendable {
    let index: [String: Int]
    let values: [String?]

    /// A row as libpq would return it: `values[i]` is the text of `columns[i]` (nil for NULL).
    public init(columns: [String], values: [String?]) {
        self.init(index: Dictionary(columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first }), values: values)
    }

    init(index: [String: Int], values: [String?]) {
        self.index = index
        self.values = values
    }

    /// The text of `column`, nil for SQL NULL.
    public func text(_ column: String) throws(PGError) -> String? {
        guard let i = index[column] else { throw .unreadable(column: column, reason: "not in the result (\(index.keys.sorted().joined(separator: ", ")))") }
        return values[i]
    }

    /// The text of a NOT NULL column.
    public func required(_ column: String) throws(PGError) -> String {
        guard let value = try text(column) else { throw .unreadable(column: column, reason: "NULL where a value is required") }
        return value
    }

    public func int64(_ column: String) throws(PGError) -> Int64? {
        try converted(column, "a bigint") { Int64($0) }
    }

    /// `t` / `f`, as libpq prints a boolean.
    public func bool(_ column: String) throws(PGError) -> Bool? {
        try converted(column, "a boolean") { $0 == "t" ? true : $0 == "f" ? false : nil }
    }

    public func uuid(_ column: String) throws(PGError) -> UUID? {
        try converted(column, "a uuid") { UUID(uuidString: $0) }
    }

    /// A `timestamptz` (`2026-11-24 07:26:43.123+00`, or `+05:30`) as RFC 3339 text, its digits kept
    /// as PostgreSQL printed them (a `Date` would round the microseconds away).
    public func rfc3339(_ column: String) throws(PGError) -> String? {
        try text(column).map(Self.rfc3339)
    }

    private func converted<T>(_ column: String, _ type: String, _ convert: (String) -> T?) throws(PGError) -> T? {
        guard let text = try text(column) else { return nil }
        guard let value = convert(text) else { throw .unreadable(column: column, reason: "\"\(text.prefix(40))\" is not \(type)") }
        return value
    }

    /// PostgreSQL's `2026-11-24 07:26:43.123+00` (or `+05:30`) as RFC 3339.
    public static func rfc3339(_ text: String) -> String {
        var t = text.replacingOccurrences(of: " ", with: "T")
        if t.hasSuffix("+00") || t.hasSuffix("+00:00") { return String(t.prefix { $0 != "+" }) + "Z" }
        // An offset of hours only gets its minutes.
        if let sign = t.lastIndex(where: { $0 == "+" || $0 == "-" }), t.distance(from: sign, to: t.endIndex) == 3,
           t[..<sign].contains("T") {
            t += ":00"
        }
        return t
    }
}

extension PGResult {
    /// The rows, each readable by column name.
    public var namedRows: [PGRow] {
        let index = Dictionary(columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        return rows.map { PGRow(index: index, values: $0) }
    }
}

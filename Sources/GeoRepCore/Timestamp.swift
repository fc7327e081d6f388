import Foundation

/// RFC 3339 times with fractional seconds, UTC: the one spelling of time in every message.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Accepts RFC 3339 with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return d }
        return try? Date.ISO8601FormatStyle().parse(text)
    }

    /// `YYYY-MM-DD HH:MM:SS` read as UTC, or nil for anything else (also for a date that does not
    /// exist, such as `2026-02-31`). The Gluster parser reads gluster's times with it, and the
    /// event decoder the brick times of workers that sent them as gluster spelt them.
    public static func parseUTCWallClock(_ text: String) -> Date? {
        let chars = Array(text.utf8)
        guard chars.count == 19 else { return nil }
        var fields: [Int] = []
        var value = 0
        for (i, c) in chars.enumerated() {
            switch i {
            case 4, 7: guard c == UInt8(ascii: "-") else { return nil }
            case 10: guard c == UInt8(ascii: " ") else { return nil }
            case 13, 16: guard c == UInt8(ascii: ":") else { return nil }
            default:
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) else { return nil }
                value = value * 10 + Int(c - UInt8(ascii: "0"))
            }
            if [3, 6, 9, 12, 15, 18].contains(i) {
                fields.append(value)
                value = 0
            }
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let wanted = DateComponents(year: fields[0], month: fields[1], day: fields[2], hour: fields[3], minute: fields[4], second: fields[5])
        guard let date = calendar.date(from: wanted) else { return nil }
        // Calendar rolls 2026-02-31 over to March; a time gluster never printed is refused instead.
        let got = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        guard got.year == wanted.year, got.month == wanted.month, got.day == wanted.day, got.hour == wanted.hour,
              got.minute == wanted.minute, got.second == wanted.second else { return nil }
        return date
    }
}

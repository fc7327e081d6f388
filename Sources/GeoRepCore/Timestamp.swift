import Foundation

/// RFC 3339 times with fractional seconds, UTC: the one spelling of time in every message.
public enum Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS.sssZ`, to the nearest millisecond: what ``parse(_:)`` reads is
    /// written again as the same text. (Foundation's style drops the fraction beyond the
    /// millisecond, and one in ten times it parses comes back a millisecond earlier: a sync window
    /// read back from the journal then looked later than the one already closed, and opened again.)
    public static func format(_ date: Date) -> String {
        let millis = (date.timeIntervalSince1970 * 1000).rounded()
        // 1970...9999: four-digit years, and no calendar question (Foundation writes times
        // before 1582 in the Julian calendar; no message of ours has one).
        guard millis >= 0, millis < 253_402_300_800_000 else {
            return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        }
        let total = Int64(millis)
        let days = total / 86_400_000
        let inDay = Int(total - days * 86_400_000)
        let (year, month, day) = civil(fromDays: Int(days))
        // Digit by digit into the string's own storage: `String(value)` and appends per field
        // were a fifth of the persister's writing time.
        return String(unsafeUninitializedCapacity: 24) { out in
            var o = 0
            func put(_ value: Int, _ width: Int) {
                var value = value
                for i in stride(from: width - 1, through: 0, by: -1) {
                    out[o + i] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                o += width
            }
            func mark(_ c: Unicode.Scalar) {
                out[o] = UInt8(ascii: c)
                o += 1
            }
            put(year, 4); mark("-"); put(month, 2); mark("-"); put(day, 2); mark("T")
            put(inDay / 3_600_000, 2); mark(":"); put(inDay / 60_000 % 60, 2); mark(":"); put(inDay / 1000 % 60, 2)
            mark("."); put(inDay % 1000, 3); mark("Z")
            return o
        }
    }

    /// Accepts RFC 3339 with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        if let d = parseOwnSpelling(text) { return d }
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

    /// `YYYY-MM-DDTHH:MM:SS.sssZ`, what ``format(_:)`` writes, read without a format style
    /// (a quarter of the persister's decoding time went into the style). The same `Date` as
    /// Foundation's parse to the bit (`TimestampTests`): seconds and milliseconds from the
    /// reference date, added as Foundation adds them. Anything else, or a field out of range,
    /// is left to Foundation, and so are times before 2001 (Foundation's reference date), where
    /// its arithmetic rounds the other way.
    static func parseOwnSpelling(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parseOwnSpelling(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// ``parseOwnSpelling(_:)`` on the bytes of a string (the event decoder's, before any `String`).
    static func parseOwnSpelling(utf8 u: UnsafeRawBufferPointer) -> Date? {
        guard u.count == 24, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"), u[10] == UInt8(ascii: "T"),
              u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"), u[19] == UInt8(ascii: "."), u[23] == UInt8(ascii: "Z")
        else { return nil }
        func number(_ from: Int, _ to: Int) -> Int? {
            var value = 0
            for i in from..<to {
                let digit = Int(u[i]) - 48
                guard digit >= 0 && digit <= 9 else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 7), let day = number(8, 10), let hour = number(11, 13),
              let minute = number(14, 16), let second = number(17, 19), let millis = number(20, 23),
              year >= 2001, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60, second < 60
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
        return Date(timeIntervalSinceReferenceDate: Double(seconds - 978_307_200) + Double(millis) / 1000)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's algorithm).
    private static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

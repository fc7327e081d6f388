import Foundation

/// When a session may replicate: explicit windows, a daily window, or both (``SyncWindowRule``
/// says what the cluster's owner does at a window's start and end). Empty: no schedule, the
/// session is left as the operator leaves it.
///
/// Times are UTC instants; the daily window starts at `HH:MM` UTC every day. A window is at most
/// ``maxMinutes`` long: the journal, which tells a new owner that a window was opened, keeps 24 h.
public struct SyncSchedule: Codable, Hashable, Sendable {
    /// One window: from `start` (inclusive) to `end` (exclusive).
    public struct Window: Codable, Hashable, Sendable {
        public var start: Date
        public var end: Date

        public init(start: Date, end: Date) {
            self.start = start
            self.end = end
        }

        public func contains(_ instant: Date) -> Bool { start <= instant && instant < end }
    }

    /// A window every day at `at` (`HH:MM`, UTC) for `minutes`.
    public struct Daily: Codable, Hashable, Sendable {
        public var at: String
        public var minutes: Int

        public init(at: String, minutes: Int) {
            self.at = at
            self.minutes = minutes
        }

        /// Seconds after midnight UTC, or nil when `at` is not `HH:MM`.
        var secondsIntoDay: Int? {
            let parts = at.split(separator: ":", omittingEmptySubsequences: false)
            guard at.utf8.count == 5, parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
                  parts[0].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isASCII), (0...23).contains(h), (0...59).contains(m)
            else { return nil }
            return h * 3600 + m * 60
        }
    }

    public var windows: [Window]
    public var daily: Daily?

    /// The most explicit windows one schedule holds (a command stays well under the message limit).
    public static let maxWindows = 500
    /// The longest window: half the journal's 24 h, so the record of its opening outlives it.
    public static let maxMinutes = 720

    public init(windows: [Window] = [], daily: Daily? = nil) {
        self.windows = windows
        self.daily = daily
    }

    /// No window at all: the schedule is cleared.
    public var isEmpty: Bool { windows.isEmpty && daily == nil }

    /// Checks bounds and shape; `field` prefixes the names in the error.
    public func validate(field: String) throws(ValidationError) {
        guard windows.count <= Self.maxWindows else {
            throw ValidationError(field: "\(field).windows", value: String(windows.count),
                                  reason: "at most \(Self.maxWindows) windows; use daily for a recurring one")
        }
        for (i, w) in windows.enumerated() {
            guard w.end > w.start else {
                throw ValidationError(field: "\(field).windows[\(i)].end", value: Timestamp.format(w.end), reason: "a window ends after it starts")
            }
            guard w.end.timeIntervalSince(w.start) <= Double(Self.maxMinutes * 60) else {
                throw ValidationError(field: "\(field).windows[\(i)].end", value: Timestamp.format(w.end),
                                      reason: "a window lasts at most \(Self.maxMinutes) minutes")
            }
        }
        let sorted = windows.sorted { $0.start < $1.start }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.start < a.end {
            throw ValidationError(field: "\(field).windows", value: Timestamp.format(b.start),
                                  reason: "windows may not overlap: one starts before the previous one ends")
        }
        if let daily {
            guard daily.secondsIntoDay != nil else {
                throw ValidationError(field: "\(field).daily.at", value: daily.at, reason: "a time of day, HH:MM in UTC (00:00-23:59)")
            }
            guard (1...Self.maxMinutes).contains(daily.minutes) else {
                throw ValidationError(field: "\(field).daily.minutes", value: String(daily.minutes),
                                      reason: "a daily window lasts 1-\(Self.maxMinutes) minutes")
            }
        }
    }

    /// The schedule as the JSON of messages (`{"windows": [{"start", "end"}], "daily": {"at", "minutes"}}`),
    /// built without an encoder that could fail: every part is a timestamp, a number, or `at`
    /// reduced to the digits and colon its validation allows.
    public var json: String {
        let list = windows.map { #"{"start":"\#(Timestamp.format($0.start))","end":"\#(Timestamp.format($0.end))"}"# }.joined(separator: ",")
        var text = #"{"windows":[\#(list)]"#
        if let daily {
            let at = String(daily.at.unicodeScalars.filter { ("0"..."9").contains($0) || $0 == ":" }.map(Character.init))
            text += #","daily":{"at":"\#(at)","minutes":\#(daily.minutes)}"#
        }
        return text + "}"
    }

    /// The window `instant` falls in (the one that started last, when a daily and an explicit
    /// window overlap), or nil.
    public func window(containing instant: Date) -> Window? {
        candidates(around: instant).filter { $0.contains(instant) }.max { $0.start < $1.start }
    }

    /// The first window starting after `instant`, or nil when there is none.
    public func next(after instant: Date) -> Window? {
        var found = windows.filter { $0.start > instant }.min { $0.start < $1.start }
        if let daily, let offset = daily.secondsIntoDay {
            let day = (instant.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
            var start = Date(timeIntervalSince1970: day + Double(offset))
            if start <= instant { start += 86_400 }
            if found.map({ start < $0.start }) ?? true {
                found = Window(start: start, end: start + Double(daily.minutes * 60))
            }
        }
        return found
    }

    /// Explicit windows, and the daily windows of the day before, of and after `instant`.
    private func candidates(around instant: Date) -> [Window] {
        guard let daily, let offset = daily.secondsIntoDay else { return windows }
        let day = (instant.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
        return windows + (-1...1).map { n in
            let start = Date(timeIntervalSince1970: day + Double(n * 86_400 + offset))
            return Window(start: start, end: start + Double(daily.minutes * 60))
        }
    }
}

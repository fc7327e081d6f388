import Foundation

/// The fleet as an operator sees it (`georep status`): every cluster with its management
/// plane's availability, and every session with its status, its bricks by status, when it was
/// last observed and the last command sent to it. Built from rows; rendered here without I/O,
/// so that the same text and JSON come out of a test and a terminal.
public struct FleetStatus: Codable, Hashable, Sendable {
    public struct Availability: Codable, Hashable, Sendable {
        public var available: Bool
        public var host: String
        public var since: String
        public var cause: String

        public init(available: Bool, host: String, since: String, cause: String) {
            self.available = available
            self.host = host
            self.since = since
            self.cause = cause
        }
    }

    public struct LastCommand: Codable, Hashable, Sendable {
        public var commandId: String
        public var action: String
        public var outcome: String
        /// When it finished, or when it was accepted while pending.
        public var at: String?

        public init(commandId: String, action: String, outcome: String, at: String?) {
            self.commandId = commandId
            self.action = action
            self.outcome = outcome
            self.at = at
        }
    }

    public struct Session: Codable, Hashable, Sendable {
        public var sessionId: String
        public var primaryVolume: String
        /// `user@host::volume`.
        public var secondary: String
        public var status: String
        /// Brick count by brick status.
        public var bricks: [String: Int]
        public var observedAt: String?
        public var lastCommand: LastCommand?
        /// The last checkpoint outcome (`georep.session.checkpoint.completed` / `.stalled`).
        public var lastCheckpoint: LastCheckpoint?
        /// The sync window open now, or the next one (``SyncSchedule``); nil without a schedule.
        public var nextWindow: NextWindow?

        public init(sessionId: String, primaryVolume: String, secondary: String, status: String, bricks: [String: Int],
                    observedAt: String?, lastCommand: LastCommand?, lastCheckpoint: LastCheckpoint? = nil, nextWindow: NextWindow? = nil) {
            self.sessionId = sessionId
            self.primaryVolume = primaryVolume
            self.secondary = secondary
            self.status = status
            self.bricks = bricks
            self.observedAt = observedAt
            self.lastCommand = lastCommand
            self.lastCheckpoint = lastCheckpoint
            self.nextWindow = nextWindow
        }
    }

    /// A session's sync window open now, or its next one (RFC 3339, UTC, to the minute).
    public struct NextWindow: Codable, Hashable, Sendable {
        public var start: String
        public var end: String
        /// The window is open now.
        public var open: Bool

        /// The window of `schedule` open at `now`, else the next one; nil when there is none.
        public init?(_ schedule: SyncSchedule, now: Date) {
            let open = schedule.window(containing: now)
            guard let window = open ?? schedule.next(after: now) else { return nil }
            self.start = Self.minute(window.start)
            self.end = Self.minute(window.end)
            self.open = open != nil
        }

        /// One cell: `2026-12-01T02:00Z - 2026-12-01T03:30Z`, or `OPEN until 2026-12-01T03:30Z`.
        var cell: String { open ? "OPEN until \(end)" : "\(start) - \(end)" }

        /// To the minute: windows are set in minutes, and the column stays narrow.
        static func minute(_ date: Date) -> String { String(Timestamp.format(date).prefix(16)) + "Z" }
    }

    /// A session's last checkpoint: `COMPLETED` or `STALLED`, with gluster's own times.
    public struct LastCheckpoint: Codable, Hashable, Sendable {
        public var status: String
        public var checkpointTime: String
        public var completedAt: String?
        public var stalledReason: String?

        public init(status: String, checkpointTime: String, completedAt: String?, stalledReason: String?) {
            self.status = status
            self.checkpointTime = checkpointTime
            self.completedAt = completedAt
            self.stalledReason = stalledReason
        }

        /// One cell: `COMPLETED 2026-11-23 04:01:15` (the checkpoint), or `STALLED … (no_progress)`.
        var cell: String { "\(status) \(checkpointTime)\(stalledReason.map { " (\($0))" } ?? "")" }
    }

    public struct Cluster: Codable, Hashable, Sendable {
        public var cluster: String
        /// Nil when no worker has reported on glusterd (or the table is not there yet).
        public var availability: Availability?
        public var sessions: [Session]

        public init(cluster: String, availability: Availability?, sessions: [Session]) {
            self.cluster = cluster
            self.availability = availability
            self.sessions = sessions
        }
    }

    public var clusters: [Cluster]

    public init(clusters: [Cluster]) { self.clusters = clusters }

    /// The view as JSON (snake_case keys, sorted), one document.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// The view as aligned text; `colour` adds ANSI colours (green replicating, yellow passing,
    /// red faulty or unavailable), for a terminal only.
    public func text(colour: Bool) -> String {
        func paint(_ text: String, _ code: String?) -> String {
            guard colour, let code else { return text }
            return "\u{1B}[\(code)m\(text)\u{1B}[0m"
        }
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
        if clusters.isEmpty { return "no clusters known yet (no worker has reported one)\n" }
        var out = ""
        for cluster in clusters {
            var plane = "management plane: not reported"
            if let a = cluster.availability {
                plane = a.available
                    ? paint("management plane: available", Self.green) + " (\(a.host), since \(a.since))"
                    : paint("management plane: UNAVAILABLE", Self.red) + " since \(a.since) on \(a.host): \(a.cause)"
            }
            out += paint("cluster \(cluster.cluster)", "1") + "  \(plane)\n"
            if cluster.sessions.isEmpty {
                out += "  no sessions\n"
                continue
            }
            let rows = cluster.sessions.map { s -> [String] in
                let bricks = s.bricks.isEmpty ? "-" : s.bricks.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                let command = s.lastCommand.map { "\($0.action) \($0.outcome)\($0.at.map { " \($0)" } ?? "")" } ?? "-"
                return ["\(s.primaryVolume) → \(s.secondary)", s.status, bricks, s.observedAt ?? "-", command,
                        s.lastCheckpoint?.cell ?? "-", s.nextWindow?.cell ?? "-", s.sessionId]
            }
            let header = ["SESSION", "STATUS", "BRICKS", "OBSERVED", "LAST COMMAND", "LAST CHECKPOINT", "NEXT WINDOW", "ID"]
            let widths = header.indices.map { i in max(header[i].count, rows.map { $0[i].count }.max() ?? 0) }
            out += "  " + header.indices.map { pad(header[$0], widths[$0]) }.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
            for (row, session) in zip(rows, cluster.sessions) {
                let cells = row.indices.map { i -> String in
                    let padded = pad(row[i], widths[i])
                    return i == 1 ? paint(padded, Self.colour(of: session.status)) : padded
                }
                out += "  " + cells.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
            }
        }
        return out
    }

    static let green = "32", yellow = "33", red = "31"

    /// The colour of a status: replicating green, stopped/paused/starting yellow, faulty red.
    static func colour(of status: String) -> String? {
        switch GeoRepStatus(rawValue: status) {
        case .active, .passive: green
        case .initializing, .notStarted, .stopped, .paused: yellow
        case .faulty, .partialFaulty: red
        case .unknown, .none: nil
        }
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}

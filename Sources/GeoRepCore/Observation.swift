import Foundation

/// When and why a state was observed. `seq` increases per session (in fact per worker clock,
/// which is stronger), so a consumer keeps the state with the highest `seq` and drops late ones.
public struct Observation: Codable, Hashable, Sendable, Comparable {
    /// Microseconds since 1970 from a hybrid logical clock: wall time, but never repeating or
    /// going back within one worker.
    public var seq: Int64
    public var at: Date
    /// `command` (with `commandId`) or `monitor`.
    public var cause: Cause

    public enum Cause: Codable, Hashable, Sendable {
        case command(UUID)
        case monitor

        private enum CodingKeys: String, CodingKey { case kind, commandId }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            switch try c.decode(String.self, forKey: .kind) {
            case "command": self = .command(try c.decode(UUID.self, forKey: .commandId))
            default: self = .monitor
            }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .command(let id):
                try c.encode("command", forKey: .kind)
                try c.encode(id, forKey: .commandId)
            case .monitor:
                try c.encode("monitor", forKey: .kind)
            }
        }

        public var commandId: UUID? { if case .command(let id) = self { id } else { nil } }
    }

    public init(seq: Int64, at: Date, cause: Cause) {
        self.seq = seq
        self.at = at
        self.cause = cause
    }

    public static func < (lhs: Observation, rhs: Observation) -> Bool { lhs.seq < rhs.seq }
}

/// Hands out ``Observation/seq`` values: wall-clock microseconds, forced strictly increasing.
public struct ObservationClock: Sendable {
    private var last: Int64 = 0

    public init() {}

    /// A clock whose next stamp is above `seq`.
    public init(after seq: Int64) { last = seq }

    public mutating func next(now: Date, cause: Observation.Cause) -> Observation {
        let wall = Int64((now.timeIntervalSince1970 * 1_000_000).rounded(.down))
        last = max(wall, last + 1)
        return Observation(seq: last, at: now, cause: cause)
    }
}

import Foundation

/// The status of a geo-replication session or of one of its bricks.
///
/// The raw values are the vocabulary of the original oVirt design and are what the
/// `status` columns of `gluster_georep_session` and `gluster_georep_session_details` hold.
/// `PAUSED` is an honest extension: gluster has a Paused state that the original list lacks
/// (oVirt's later code added it too). gluster's `Created` maps to `NOTSTARTED`.
public enum GeoRepStatus: String, Codable, Sendable, CaseIterable, Hashable {
    case initializing = "INITIALIZING"
    case notStarted = "NOTSTARTED"
    case active = "ACTIVE"
    case passive = "PASSIVE"
    case stopped = "STOPPED"
    case paused = "PAUSED"
    case partialFaulty = "PARTIAL_FAULTY"
    case faulty = "FAULTY"
    case unknown = "UNKNOWN"

    /// Maps one of gluster's per-brick status strings, in any letter case
    /// (`Initializing...`, `Created`, `Active`, `Passive`, `Stopped`, `Paused`, `Faulty`).
    /// Anything else, `N/A` included, is ``unknown``.
    public init(glusterBrickStatus raw: String) {
        var text = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        while text.hasSuffix(".") { text.removeLast() }
        switch text {
        case "initializing", "initialising": self = .initializing
        case "created", "not started", "notstarted": self = .notStarted
        case "active": self = .active
        case "passive": self = .passive
        case "stopped": self = .stopped
        case "paused": self = .paused
        case "faulty": self = .faulty
        default: self = .unknown
        }
    }

    /// The lowercase word used in event routing keys, e.g. `georep.session.status.partial_faulty`.
    public var routingWord: String { rawValue.lowercased() }
}

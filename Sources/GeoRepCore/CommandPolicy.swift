/// What a command may do to a session in the state gluster reports, decided before gluster runs.
///
/// `current` is the session's status now (nil: gluster has no such session). `mayHaveRun` is
/// true for a command that may already have taken effect: a redelivery after a worker died, or
/// a retry after a timeout. For such a command, finding the wanted state already in place means
/// it did run, and it succeeds without running again; a fresh command in the same situation is
/// told why not (resume of a session that is not paused).
public enum CommandPolicy {
    public enum Decision: Equatable, Sendable {
        /// Run the gluster operation.
        case execute
        /// The wanted state holds already; succeed without running anything.
        case alreadyDone(String)
        /// Refuse, with a stable code and a message saying what to do instead.
        case reject(code: String, message: String)
    }

    /// Running in gluster's sense: a worker process exists for the bricks.
    static let running: Set<GeoRepStatus> = [.initializing, .active, .passive, .faulty, .partialFaulty]

    /// `checkpointSince`: the session's checkpoint was set at or after the command was issued
    /// (for a checkpoint that may have run: its own earlier attempt set it).
    public static func decide(_ action: CommandAction, current: GeoRepStatus?, options: CommandOptions, mayHaveRun: Bool,
                              checkpointSince: Bool = false) -> Decision {
        switch action {
        case .refresh, .discover, .schedule:
            // A schedule is the service's, not gluster's: it may name a session before it exists.
            return .execute
        case .create:
            // gluster's own create is idempotent with force (it pushes the keys again); a create
            // that may have run already did that.
            guard let current else { return .execute }
            return options.force == true && !mayHaveRun ? .execute : .alreadyDone("the session exists already (\(current.rawValue))")
        case .checkpoint where mayHaveRun && checkpointSince && current != nil:
            return .alreadyDone("a checkpoint was set after this command was sent: its earlier attempt")
        case .delete:
            guard let current else { return .alreadyDone("no such session: nothing to delete") }
            if running.contains(current) || current == .paused {
                return options.stopFirst == true
                    ? .execute
                    : .reject(code: "session_running",
                              message: "the session is \(current.rawValue); stop it first, or send delete with stop_first")
            }
            return .execute
        default:
            break
        }
        guard let current else {
            return .reject(code: "session_not_found", message: "gluster has no such session; create it first")
        }
        switch action {
        case .start:
            if running.contains(current) { return .alreadyDone("already started (\(current.rawValue))") }
            if current == .paused { return .reject(code: "session_paused", message: "the session is PAUSED; resume it instead") }
            return .execute
        case .stop:
            if current == .stopped || current == .notStarted { return .alreadyDone("already stopped (\(current.rawValue))") }
            return .execute
        case .pause:
            if current == .paused { return .alreadyDone("already paused") }
            if running.contains(current) { return .execute }
            return .reject(code: "session_not_running", message: "the session is \(current.rawValue); only a running session can be paused")
        case .resume:
            if current == .paused { return .execute }
            if mayHaveRun && running.contains(current) { return .alreadyDone("already resumed (\(current.rawValue))") }
            return .reject(code: "session_not_paused", message: "the session is \(current.rawValue); only a paused session can be resumed")
        case .configSet, .configReset, .checkpoint:
            return .execute
        case .create, .delete, .refresh, .discover, .schedule:
            return .execute
        }
    }
}

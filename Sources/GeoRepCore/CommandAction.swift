/// What a command asks the worker to do to a session.
public enum CommandAction: String, Codable, Sendable, CaseIterable {
    case create
    case start
    case stop
    case pause
    case resume
    case delete
    case configSet = "config.set"
    case configReset = "config.reset"
    case checkpoint
    case refresh
    case discover
    /// Set or clear the session's sync windows (``SyncSchedule``).
    case schedule
}

import Logging

/// Metadata that every log line carries while a piece of work runs, whichever logger writes it:
/// a command's `command_id` and `session` on the worker's lines and on the gluster executor's.
public enum LogContext {
    @TaskLocal public static var metadata: Logger.Metadata = [:]

    /// For `LoggingSystem.bootstrap(_:metadataProvider:)`.
    public static let provider = Logger.MetadataProvider { metadata }
}

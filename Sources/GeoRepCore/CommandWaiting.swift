import Foundation

/// A `checkpoint` command with `wait`: the checkpoint is set, its result is owed
/// (`georep.command.waiting`). It goes through the events exchange into the journal, so every
/// worker knows the pending wait; the cluster's owner publishes the one result when the
/// checkpoint completes (succeeded), the deadline passes or the session leaves ACTIVE (failed,
/// ``CheckpointWait``) — also to `replyTo`, with `correlationId`.
public struct CommandWaiting: SessionEventPayload {
    public var commandId: UUID
    public var action: String
    public var session: SessionRef
    public var sessionId: UUID
    /// The checkpoint to reach (gluster's `checkpoint_time`); nil when no Active brick reported
    /// it yet: then the first checkpoint completed after `since` counts.
    public var checkpointTime: String?
    public var since: Date
    public var deadline: Date
    public var replyTo: String?
    public var correlationId: String?

    public init(commandId: UUID, action: String, session: SessionRef, checkpointTime: String?, since: Date, deadline: Date,
                replyTo: String?, correlationId: String?) {
        self.commandId = commandId
        self.action = action
        self.session = session
        self.sessionId = session.sessionID
        self.checkpointTime = checkpointTime
        self.since = since
        self.deadline = deadline
        self.replyTo = replyTo
        self.correlationId = correlationId
    }
}

import Foundation

/// A full picture of one session at one observation: the session row, every brick's row and
/// the config options. Consumers replace what they hold for the session when `observation.seq`
/// is newer.
public struct SessionSnapshot: SessionEventPayload {
    public var sessionId: UUID
    public var session: SessionRef
    /// gluster's `session_secondary`: `<primary node uuid>:ssh://<host>::<volume>:<secondary volume uuid>`.
    public var sessionKey: String?
    public var primaryVolumeId: String?
    public var secondaryVolumeId: String?
    public var secondaryHostUuid: String?
    public var status: GeoRepStatus
    public var bricks: [BrickDetail]
    /// Config options as gluster reports them (underscored names); nil when not read.
    public var options: [String: String]?
    public var observation: Observation

    public init(
        session: SessionRef, sessionKey: String?, primaryVolumeId: String?, secondaryVolumeId: String?,
        secondaryHostUuid: String? = nil, status: GeoRepStatus, bricks: [BrickDetail],
        options: [String: String]?, observation: Observation
    ) {
        self.init(sessionId: session.sessionID, session: session, sessionKey: sessionKey, primaryVolumeId: primaryVolumeId,
                  secondaryVolumeId: secondaryVolumeId, secondaryHostUuid: secondaryHostUuid, status: status, bricks: bricks,
                  options: options, observation: observation)
    }

    /// With the id as a message carries it (the decoder's: no SHA-1 of the name per event).
    init(
        sessionId: UUID, session: SessionRef, sessionKey: String?, primaryVolumeId: String?, secondaryVolumeId: String?,
        secondaryHostUuid: String?, status: GeoRepStatus, bricks: [BrickDetail], options: [String: String]?, observation: Observation
    ) {
        self.sessionId = sessionId
        self.session = session
        self.sessionKey = sessionKey
        self.primaryVolumeId = primaryVolumeId
        self.secondaryVolumeId = secondaryVolumeId
        self.secondaryHostUuid = secondaryHostUuid
        self.status = status
        self.bricks = bricks
        self.options = options
        self.observation = observation
    }
}

/// A session went from one status to another (`from` is nil the first time it is seen).
public struct SessionStatusChanged: SessionEventPayload {
    public var sessionId: UUID
    public var session: SessionRef
    public var from: GeoRepStatus?
    public var to: GeoRepStatus
    public var observation: Observation

    public init(session: SessionRef, from: GeoRepStatus?, to: GeoRepStatus, observation: Observation) {
        self.init(sessionId: session.sessionID, session: session, from: from, to: to, observation: observation)
    }

    init(sessionId: UUID, session: SessionRef, from: GeoRepStatus?, to: GeoRepStatus, observation: Observation) {
        self.sessionId = sessionId
        self.session = session
        self.from = from
        self.to = to
        self.observation = observation
    }
}

/// One brick of a session went from one status to another.
public struct BrickStatusChanged: SessionEventPayload {
    public var sessionId: UUID
    public var session: SessionRef
    public var brickId: UUID?
    /// `host:path`.
    public var brick: String
    public var from: GeoRepStatus?
    public var to: GeoRepStatus
    public var observation: Observation

    public init(session: SessionRef, brickId: UUID?, brick: String, from: GeoRepStatus?, to: GeoRepStatus, observation: Observation) {
        self.init(sessionId: session.sessionID, session: session, brickId: brickId, brick: brick, from: from, to: to, observation: observation)
    }

    init(sessionId: UUID, session: SessionRef, brickId: UUID?, brick: String, from: GeoRepStatus?, to: GeoRepStatus, observation: Observation) {
        self.sessionId = sessionId
        self.session = session
        self.brickId = brickId
        self.brick = brick
        self.from = from
        self.to = to
        self.observation = observation
    }
}

/// A session no longer exists on gluster.
public struct SessionDeleted: SessionEventPayload {
    public var sessionId: UUID
    public var session: SessionRef
    public var observation: Observation

    public init(session: SessionRef, observation: Observation) {
        self.init(sessionId: session.sessionID, session: session, observation: observation)
    }

    init(sessionId: UUID, session: SessionRef, observation: Observation) {
        self.sessionId = sessionId
        self.session = session
        self.observation = observation
    }
}

/// What happened to a command. Exactly one is published per command id handled.
public struct CommandResult: EventPayload {
    public enum Outcome: String, Codable, Sendable {
        /// Applied, or the wanted state already held.
        case succeeded
        /// gluster refused or could not be reached; `error` says why.
        case failed
        /// Never reached gluster: malformed, invalid, or forbidden by the session's state.
        case rejected
    }

    /// Nil only when the message was too broken to carry one.
    public var commandId: UUID?
    /// The action as sent (it may be one we do not know).
    public var action: String
    public var session: SessionRef?
    public var sessionId: UUID?
    public var outcome: Outcome
    /// One line for humans.
    public var message: String
    public var error: ErrorInfo?
    /// For a change of an option that needs the admin grant (``OptionGrant``): who held it, and what changed.
    public var grant: OptionGrant.Record?
    public var finishedAt: Date

    public init(
        commandId: UUID?, action: String, session: SessionRef?, outcome: Outcome, message: String,
        error: ErrorInfo? = nil, grant: OptionGrant.Record? = nil, finishedAt: Date = Date()
    ) {
        self.commandId = commandId
        self.action = action
        self.session = session
        self.sessionId = session?.sessionID
        self.outcome = outcome
        self.message = message
        self.error = error
        self.grant = grant
        self.finishedAt = finishedAt
    }

    /// Its session's key; none for a message too broken to name one.
    public var subject: String? { session?.key }
}

/// A machine-readable error: a stable `code`, what happened, and whether trying again may help.
public struct ErrorInfo: Codable, Hashable, Sendable {
    public var code: String
    public var message: String
    public var retryable: Bool
    /// Raw output or other evidence, when there is some.
    public var detail: String?

    public init(code: String, message: String, retryable: Bool = false, detail: String? = nil) {
        self.code = code
        self.message = message
        self.retryable = retryable
        self.detail = detail
    }
}

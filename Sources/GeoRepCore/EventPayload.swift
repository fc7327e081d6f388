/// The data of an ``Event``: what travels as its envelope's `data`, and what the envelope's
/// `subject` says the event is about.
public protocol EventPayload: Codable, Hashable, Sendable {
    /// The CloudEvent `subject`: the session key (``SessionRef/key``) the event is about, or its cluster.
    var subject: String? { get }
}

/// The data of an event about one session: the session's key is its subject.
public protocol SessionEventPayload: EventPayload {
    var session: SessionRef { get }
}

extension SessionEventPayload {
    public var subject: String? { session.key }
}

import Foundation

/// A CloudEvents 1.0 envelope in structured JSON mode: every command and event travels as one
/// JSON object with the attributes beside `data` (content type `application/cloudevents+json`).
/// Structured mode was chosen over AMQP-header (binary) mode so that a message is complete in
/// its body: it survives dead-lettering, logging and replay without its headers.
public struct CloudEvent<Payload: Codable & Sendable>: Codable, Sendable {
    public var specversion: String
    public var id: String
    /// Who produced it, e.g. `georep/worker/vm/1234` or `georep/cli`.
    public var source: String
    public var type: String
    public var time: Date?
    /// The session key (``SessionRef/key``) the message is about.
    public var subject: String?
    public var datacontenttype: String?
    public var data: Payload

    public init(id: String, source: String, type: String, time: Date = Date(), subject: String?, data: Payload) {
        self.specversion = "1.0"
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.subject = subject
        self.datacontenttype = "application/json"
        self.data = data
    }
}

/// The attributes of an envelope without its data: read first to decide how to read the rest.
public struct CloudEventHeader: Codable, Sendable {
    public var specversion: String
    public var id: String
    public var source: String
    public var type: String
    public var time: Date?
    public var subject: String?
}

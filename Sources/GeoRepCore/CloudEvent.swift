import Foundation

/// A CloudEvents 1.0 envelope in structured JSON mode: every command and event travels as one
/// JSON object with the attributes beside `data` (content type `application/cloudevents+json`).
/// Structured mode was chosen over AMQP-header (binary) mode so that a message is complete in
/// its body: it survives dead-lettering, logging and replay without its headers.
///
/// The attributes are declared once, in ``CloudEventHeader``; the envelope writes and reads them
/// in the same object as `datacontenttype` and `data`.
public struct CloudEvent<Payload: Codable & Sendable>: Codable, Sendable {
    public var header: CloudEventHeader
    public var datacontenttype: String?
    public var data: Payload

    public init(id: String, source: String, type: String, time: Date = Date(), subject: String?, data: Payload) {
        self.header = CloudEventHeader(specversion: "1.0", id: id, source: source, type: type, time: time, subject: subject)
        self.datacontenttype = "application/json"
        self.data = data
    }

    private enum CodingKeys: String, CodingKey {
        case datacontenttype
        case data
    }

    public init(from decoder: any Decoder) throws {
        header = try CloudEventHeader(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        datacontenttype = try container.decodeIfPresent(String.self, forKey: .datacontenttype)
        data = try container.decode(Payload.self, forKey: .data)
    }

    public func encode(to encoder: any Encoder) throws {
        try header.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(datacontenttype, forKey: .datacontenttype)
        try container.encode(data, forKey: .data)
    }
}

/// The attributes of an envelope without its data: read first to decide how to read the rest.
public struct CloudEventHeader: Codable, Sendable {
    public var specversion: String
    public var id: String
    /// Who produced it, e.g. `georep/worker/vm/1234` or `georep/cli`.
    public var source: String
    public var type: String
    public var time: Date?
    /// The session key (``SessionRef/key``) the message is about.
    public var subject: String?
}

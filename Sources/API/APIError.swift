import GeoRepCore
import Hummingbird

/// Every refusal the API gives: an HTTP status, a stable code and a sentence that says what to do.
/// Rendered as oVirt's `<fault><reason/><detail/></fault>` or as JSON `{"fault": {…}}`.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var detail: String

    public init(_ status: HTTPResponse.Status, code: String, _ detail: String) {
        self.status = status
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(status.code) \(code): \(detail)" }

    static func notFound(_ what: String) -> APIError { APIError(.notFound, code: "not_found", what) }
    static func badRequest(_ detail: String, code: String = "bad_request") -> APIError { APIError(.badRequest, code: code, detail) }
    static func invalid(_ error: ValidationError) -> APIError { APIError(.badRequest, code: "invalid_value", error.description) }
}
